"""The change feed's triggers (see ``agreements.models.Change``): the database
writes an entry, in the transaction of the write, for every write to a table
the API shows, however it is made (ORM, bulk update, raw SQL, restore).

They follow the schema: taken off before every ``migrate`` (``before_migrate``:
they name columns, which a migration may drop or rebuild) and put back after
it from the models as they are then (``after_migrate``), so a later column
counts and SQLite's table rebuilds (which drop a table's triggers) cannot
leave a table silent. Writes made by the migrations themselves are not in
the feed. tests/api/test_change_feed.py checks.
"""

from django.db import connections, transaction

# Each table the API shows records a change of the record it belongs to: a party, topic, signatory, source or
# document of its agreement; a stop, programme item or participant of its trip;
# a person present at its signing event.

# (table, resource, the record's table, the column naming it or None for itself)
SOURCES = [
    ("agreements_agreement", "agreement", "agreements_agreement", None),
    ("agreements_agreementparty", "agreement", "agreements_agreement", "agreement_id"),
    ("agreements_agreement_topics", "agreement", "agreements_agreement", "agreement_id"),
    ("agreements_signatory", "agreement", "agreements_agreement", "agreement_id"),
    ("agreements_agreementsource", "agreement", "agreements_agreement", "agreement_id"),
    ("agreements_agreementdocument", "agreement", "agreements_agreement", "agreement_id"),
    ("agreements_agreementconfirmation", "agreement", "agreements_agreement", "agreement_id"),
    ("agreements_organisation", "organisation", "agreements_organisation", None),
    ("agreements_person", "person", "agreements_person", None),
    ("agreements_topic", "topic", "agreements_topic", None),
    ("agreements_signingevent", "signingevent", "agreements_signingevent", None),
    ("agreements_signingevent_people_present", "signingevent", "agreements_signingevent", "signingevent_id"),
    ("agreements_delegationtrip", "trip", "agreements_delegationtrip", None),
    ("agreements_tripstop", "trip", "agreements_delegationtrip", "trip_id"),
    ("agreements_programmeitem", "trip", "agreements_delegationtrip", "trip_id"),
    ("agreements_delegationtrip_participant_organisations", "trip", "agreements_delegationtrip", "delegationtrip_id"),
    ("agreements_delegationtrip_participant_people", "trip", "agreements_delegationtrip", "delegationtrip_id"),
]
EVENTS = {"INSERT": ("insert",), "UPDATE": ("update",), "DELETE": ("delete",)}
# A part of a record removed (a party, topic, document ... row deleted): an
# update of the record for its readers ("removed_from_view" for a party that
# went). Marked apart because deleting a record removes its parts first (the
# models' cascade; raw SQL must too, for the foreign keys): an agreement's
# DELETE entry is for the organisations that saw it before those removals,
# the parties of the entries "remove" wrote since its last other change.
REMOVE = "remove"


# Columns whose change is not a change of the record (derived, or bookkeeping):
# an UPDATE that sets only these writes no entry.
NOT_CONTENT = {
    *("search_vector", "search_text", "search_title"),  # the searchable text (agreements.search)
    *("signed_date", "signed_date_precision"),  # the effective signing date
    *("updated_at", "created_at", "published_at"),
}


def create_statements(vendor: str, columns: dict[str, list[str]], tables: set[str]) -> list[str]:
    postgres = vendor == "postgresql"
    now = "clock_timestamp()" if postgres else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    text = "::text" if postgres else ""
    agg = "string_agg" if postgres else "group_concat"
    true, false = ("TRUE", "FALSE") if postgres else ("1", "0")

    def parties(agreement: str, without: str | None = None, plus: str | None = None) -> str:
        """The agreement's party organisations as ``,3,7,`` (without one party row, plus one organisation)."""
        where = f"p.agreement_id = {agreement}" + (f" AND p.id <> {without}" if without else "")
        listed = (
            f"COALESCE((SELECT {agg}(p.organisation_id{text}, ',') "  # noqa: S608  # nosec B608: our own constants
            f"FROM agreements_agreementparty p WHERE {where}), '')"
        )
        extra = f" || {plus}{text} || ','" if plus else ""
        return f"',' || {listed} || ','{extra}"

    def removed_parties(agreement: str) -> str:
        """The organisations that saw the agreement before its parts' removals
        that came right before this (its deletion's cascade), as ``,3,,7,``."""
        last_other = (
            "SELECT MAX(o.id) FROM agreements_change o WHERE o.resource = 'agreement' "  # noqa: S608  # nosec B608
            f"AND o.record_id = {agreement} AND o.operation <> '{REMOVE}'"
        )
        return (
            f"COALESCE((SELECT {agg}(c.organisations_before, '') FROM agreements_change c "  # noqa: S608  # nosec B608
            f"WHERE c.resource = 'agreement' AND c.record_id = {agreement} AND c.operation = '{REMOVE}' "
            f"AND c.id > COALESCE(({last_other}), 0)), '')"
        )

    def published(row: str) -> str:
        return f"({row}.is_public AND {row}.status IN ('signed', 'terminated'))"

    def entry(table, resource, record_table, column, event, row):
        operation = EVENTS[event][0]
        if column is not None:
            operation = REMOVE if event == "DELETE" else "update"  # a part changed: its record was updated
        # The record row as it is (r), and who saw it before and after this write.
        record = f"{row}.{column}" if column else f"{row}.id"
        before = after = None
        if resource == "agreement":
            visible = published("r")
            pub_before = pub_after = visible
            if column is None and event == "UPDATE":
                pub_before, pub_after = published("OLD"), published("NEW")
            elif column is None and event == "INSERT":
                pub_before = false
            elif column is None and event == "DELETE":
                pub_after = false
            orgs = parties("r.id")
            before = after = orgs
            if column is None and event == "DELETE":
                before = orgs + " || " + removed_parties("r.id")
            if table == "agreements_agreementparty":
                if event == "INSERT":
                    before = parties("r.id", without="NEW.id")
                elif event == "DELETE":
                    before = parties("r.id", plus="OLD.organisation_id")
                else:
                    before = parties("r.id", without="NEW.id", plus="OLD.organisation_id")
        elif resource == "person":
            pub_before = pub_after = "r.is_public"
            orgs = f"',' || COALESCE(r.organisation_id{text}, '') || ','"
            before = after = orgs
            if column is None:
                if event in ("UPDATE", "DELETE"):
                    pub_before = "OLD.is_public"
                    before = f"',' || COALESCE(OLD.organisation_id{text}, '') || ','"
                if event == "INSERT":
                    pub_before, before = false, "','"
                if event == "DELETE":
                    pub_after, after = false, "','"
        else:  # reference data: everyone sees it
            pub_before = pub_after = true
            before = after = "','"
            if column is None and event == "INSERT":
                pub_before = false
            if column is None and event == "DELETE":
                pub_after = false
        return operation, record, pub_before, pub_after, before, after

    statements = []
    for table, resource, record_table, column in SOURCES:
        if table not in tables:  # not made yet by the migrations
            continue
        for event in EVENTS:
            row = "OLD" if event == "DELETE" else "NEW"
            op, record, pub_before, pub_after, before, after = entry(table, resource, record_table, column, event, row)
            fields = (
                "resource, record_id, slug, operation, published_before, published_after, "
                "organisations_before, organisations_after, changed_at"
            )
            if column is None:
                # The record's own row: its values from the row itself (r is OLD or NEW).
                values = [f"'{resource}'", "r.id", "r.slug", f"'{op}'", pub_before, pub_after, before, after, now]
                select = "SELECT " + ", ".join(v.replace("r.", f"{row}.") for v in values)
            else:
                values = [f"'{resource}'", "r.id", "r.slug", f"'{op}'", pub_before, pub_after, before, after, now]
                select = f"SELECT {', '.join(values)} FROM {record_table} r WHERE r.id = {record}"  # noqa: S608  # nosec B608
            insert = f"INSERT INTO agreements_change ({fields}) {select}"
            name = f"{table}_chg_{event.lower()}"
            when = event
            if event == "UPDATE" and column is None:
                when = "UPDATE OF " + ", ".join(c for c in columns[table] if c not in NOT_CONTENT)
            if postgres:
                statements.append(
                    f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    f"BEGIN {insert}; RETURN NULL; END $$"
                )
                statements.append(
                    f"CREATE TRIGGER {name} AFTER {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
                )
            else:
                statements.append(f"CREATE TRIGGER {name} AFTER {when} ON {table} BEGIN {insert}; END")
    return statements


def drop_statements(vendor: str, tables: set[str]) -> list[str]:
    statements = []
    for table, *_ in SOURCES:
        if table not in tables:
            continue
        for event in EVENTS:
            name = f"{table}_chg_{event.lower()}"
            if vendor == "postgresql":
                statements += [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
            else:
                statements.append(f"DROP TRIGGER IF EXISTS {name}")
    return statements


def install(apps, schema_editor) -> None:
    """(Re)create every trigger from the models of ``apps`` (a migration's or the project's)."""
    _install(apps, schema_editor.connection)


def _install(apps, connection) -> None:
    columns = {
        model._meta.db_table: [field.column for field in model._meta.concrete_fields]
        for model in apps.get_app_config("agreements").get_models()
    }
    tables = set(connection.introspection.table_names())
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for statement in [*drop_statements(vendor, tables), *create_statements(vendor, columns, tables)]:
            cursor.execute(statement)


def uninstall(apps, schema_editor) -> None:
    connection = schema_editor.connection
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for statement in drop_statements(connection.vendor, tables):
            cursor.execute(statement)


def before_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    """Take the triggers off while migrations run: they name the tables'
    columns, so a migration that drops or rebuilds one (forwards or
    backwards) would be refused. ``after_migrate`` puts them back."""
    connection = connections[using]
    with transaction.atomic(using=using):
        tables = set(connection.introspection.table_names())
        with connection.cursor() as cursor:
            for statement in drop_statements(connection.vendor, tables):
                cursor.execute(statement)


def after_migrate(sender, app_config=None, using="default", apps=None, **kwargs) -> None:
    """Put the triggers back as the schema now is, if the feed's table exists."""
    connection = connections[using]
    if "agreements_change" not in connection.introspection.table_names():
        return
    if apps is None:
        from django.apps import apps
    with transaction.atomic(using=using):
        _install(apps, connection)
