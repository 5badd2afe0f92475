"""A large synthetic registry for the benchmark (``bench/``) and for trying
the site with realistic volumes.

Deterministic: the same ``--seed`` and sizes give the same records (the same
slugs, texts and links), whatever the database. Rows are written in bulk:
PostgreSQL through ``COPY`` (psycopg), other databases through
``bulk_create``. Everything happens in one transaction, and the command
refuses to add to a registry that already holds agreements unless told to
replace it.

Bulk writes skip ``save()``, so what ``save()`` would derive is filled here:
``published_at`` for published agreements and the searchable text with the
model's own ``search_document()`` (on PostgreSQL the agreements are staged
and written once, with it, into the table whose plain indexes are rebuilt
afterwards; elsewhere one ``UPDATE``). The effective signing date is set as
the database's trigger would (which stays on). No change history and no
change feed entries are written for generated records: the feed's triggers
are off during the load, inside its transaction (``change_feed_paused``),
and the feed restarts after it.
"""

import contextlib
import datetime
import itertools
import random
import time
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils.text import slugify

from agreements import feed_triggers
from agreements.choices import (
    AgreementStatus,
    DatePrecision,
    DocumentKind,
    OrganisationKind,
    PartyRole,
    ProgrammeItemKind,
    SourceKind,
    SuccessionKind,
)
from agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementParty,
    AgreementSource,
    ApiToken,
    Change,
    ChangeFeedState,
    DelegationTrip,
    ExpiryReminder,
    Organisation,
    Person,
    ProgrammeItem,
    Signatory,
    SigningEvent,
    Topic,
    TripStop,
    search_document,
)

from ._registry_words import (  # the word lists, kept apart from the logic
    AND,
    BETWEEN,
    COUNTRY_CODES,
    COUNTRY_WEIGHTS,
    FIRST_CZ,
    FIRST_DE,
    FIRST_PL,
    GEOGRAPHY,
    KIND_NAMES,
    KIND_WEIGHTS,
    KINDS,
    OBJECTIVE_LEAD,
    OBJECTIVES,
    POSITION_WEIGHTS,
    POSITIONS,
    PROGRAMME_TITLES,
    SECTORS,
    SUMMARIES,
    SURNAMES_CZ,
    SURNAMES_DE,
    SURNAMES_PL,
    TERMINATION_REASONS,
    TOPIC_SLUGS,
    TOPICS,
    VENUES,
)

LANGS = ("de", "en", "pl")
FIRST_DAY = datetime.date(2004, 1, 1)
LAST_DAY = datetime.date(2025, 12, 31)  # fixed, so a seed gives the same data on any day
UTC = datetime.UTC


def weighted(rng: random.Random, items, cum_weights):
    return rng.choices(items, cum_weights=cum_weights)[0]


def random_day(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    return first + datetime.timedelta(days=rng.randrange((last - first).days + 1))


def at_nine(day: datetime.date, plus_days: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day + datetime.timedelta(days=plus_days), datetime.time(9), tzinfo=UTC)


def acronym(name: str) -> str:
    letters = "".join(w[0] for w in name.replace("-", " ").split() if w[:1].isupper())
    return letters[:8] if len(letters) >= 2 else ""


class Slugs:
    """Unique slugs per model: the text's slug, then -2, -3 … on a clash
    (with generated records or with ones already in the database)."""

    def __init__(self, model):
        self.taken = set(model.objects.values_list("slug", flat=True))

    def __call__(self, text: str, max_length: int = 80) -> str:
        base = slugify(text)[: max_length - 8].strip("-") or "x"
        slug, n = base, 1
        while slug in self.taken:
            n += 1
            slug = f"{base}-{n}"
        self.taken.add(slug)
        return slug


# --------------------------------------------------------------------------
# Writing rows in bulk


class Table:
    """Rows of one table, as tuples in the order of ``fields`` (attribute
    names); fields not listed get their model default."""

    def __init__(self, model, fields: list[str], optional: dict | None = None):
        """``optional``: values for fields that only some versions of the model have."""
        self.model = model
        optional = optional or {}
        concrete = {f.attname: f for f in model._meta.concrete_fields}
        unknown = set(fields) - set(concrete)
        if unknown:
            raise CommandError(f"{model.__name__} has no fields {sorted(unknown)}")
        # Not listed: the model default (the primary key: the database's own).
        self.missing = [f for name, f in concrete.items() if name not in fields and not f.primary_key]
        self.defaults = tuple(optional[f.attname] if f.attname in optional else f.get_default() for f in self.missing)
        for f, value in zip(self.missing, self.defaults, strict=True):
            if value is None and not f.null:
                raise CommandError(f"{model.__name__}.{f.attname} needs a value")
        self.fields = [*fields, *(f.attname for f in self.missing)]
        self.columns = [concrete[name].column for name in self.fields]
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, *values) -> None:
        self.rows.append(values + self.defaults if self.defaults else values)


# Written to a staging table, then to the registry in one statement (PostgreSQL; see Writer).
STAGED = {Agreement}


class Writer:
    """Writes a table's rows in bulk. On PostgreSQL the agreements go to a
    staging table first (``STAGED``): they are written to the registry once,
    at the end, with their searchable text (``Command.finish``), instead of
    written and then rewritten by an ``UPDATE``."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.postgres = connection.vendor == "postgresql"
        self.staged: dict[type, Table] = {}

    def flush(self, table: Table) -> None:
        if not table.rows:
            return
        if self.postgres:
            names = ", ".join(connection.ops.quote_name(c) for c in table.columns)
            target = table.model._meta.db_table
            if table.model in STAGED:
                target = self.stage(table)
            sql = f"COPY {connection.ops.quote_name(target)} ({names}) FROM STDIN"
            with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                for row in table.rows:
                    copy.write_row(row)
        else:
            objs = [table.model(**dict(zip(table.fields, row, strict=True))) for row in table.rows]
            table.model.objects.bulk_create(objs, batch_size=self.batch_size)
        table.count += len(table.rows)
        table.rows = []

    def stage(self, table: Table) -> str:
        """The staging table for ``table``'s model: its columns, no constraints or indexes, dropped at commit."""
        name = f"generated_{table.model._meta.model_name}"
        if table.model not in self.staged:
            columns = ", ".join(connection.ops.quote_name(c) for c in table.columns)
            with connection.cursor() as cursor:
                # Names from the model's own metadata.
                source = connection.ops.quote_name(table.model._meta.db_table)
                empty = f"SELECT {columns} FROM {source} WITH NO DATA"  # noqa: S608  # nosec B608
                cursor.execute(f"CREATE TEMPORARY TABLE {connection.ops.quote_name(name)} ON COMMIT DROP AS {empty}")
            self.staged[table.model] = table
        return name


def next_id(model) -> int:
    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


# --------------------------------------------------------------------------
# The generator


@dataclass
class Org:
    id: int
    slug: str
    name: str
    display: str
    country: str
    city: str
    website: str
    kind: str
    people: list[int] = field(default_factory=list)


@dataclass
class Trip:
    id: int
    country: str
    start: datetime.date
    end: datetime.date
    cities: list[str]
    title: tuple[str, str, str]


class Generator:
    def __init__(self, *, seed: int, organisations: int, agreements: int, batch_size: int):
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self.n_orgs = organisations
        self.n_agreements = agreements
        self.writer = Writer(batch_size)
        self.batch_size = batch_size
        self.counts: dict[str, int] = {}

    # -- helpers -------------------------------------------------------------
    def table(self, model, fields, optional=None):
        return Table(model, fields, optional)

    def flush(self, *tables: Table) -> None:
        for table in tables:
            self.writer.flush(table)

    def texts(self, templates: tuple[str, str, str], **values) -> list[str]:
        return [
            t.format(**{k: (v[i] if isinstance(v, tuple) else v) for k, v in values.items()})
            for i, t in enumerate(templates)
        ]

    def drop_some(self, texts: list[str], language: str) -> list[str]:
        """Not every record is translated: keep the original, sometimes drop others."""
        rng = self.rng
        out = list(texts)
        for i, lang in enumerate(LANGS):
            if lang != language and rng.random() < (0.12 if lang == "pl" else 0.05):
                out[i] = ""
        return out

    # -- the parts -----------------------------------------------------------
    def run(self) -> dict[str, int]:
        self.make_topics()
        self.make_organisations()
        self.make_people()
        self.make_trips()
        self.make_agreements()
        return self.counts

    def make_topics(self):
        rng = self.rng
        table = self.table(
            Topic,
            [
                "id",
                "slug",
                "name_de",
                "name_en",
                "name_pl",
                "description_de",
                "description_en",
                "description_pl",
                "language",
                "created_at",
                "updated_at",
            ],
        )
        slugs = Slugs(Topic)
        first = next_id(Topic)
        self.topics = []
        stamp = at_nine(FIRST_DAY)
        for i, key in enumerate(TOPIC_SLUGS):
            de, en, pl = TOPICS[key]
            desc = (f"Vereinbarungen zum Thema {de}.", f"Agreements on {en.lower()}.", f"Porozumienia: {pl.lower()}.")
            table.add(first + i, slugs(key), de, en, pl, *desc, rng.choice(LANGS), stamp, stamp)
            self.topics.append((first + i, (de, en, pl)))
        self.flush(table)
        self.counts["topics"] = table.count

    def make_organisations(self):
        rng = self.rng
        table = self.table(
            Organisation,
            [
                "id",
                "name",
                "short_name",
                "slug",
                "kind",
                "country",
                "region",
                "city",
                "website",
                "description_de",
                "description_en",
                "description_pl",
                "language",
                "parent_id",
                "created_at",
                "updated_at",
            ],
        )
        kinds = [
            OrganisationKind.CLUSTER,
            OrganisationKind.ASSOCIATION,
            OrganisationKind.COMPANY,
            OrganisationKind.RESEARCH,
            OrganisationKind.PUBLIC_AUTHORITY,
            OrganisationKind.OTHER,
        ]
        kind_weights = list(itertools.accumulate([20, 20, 30, 12, 13, 5]))
        slugs = Slugs(Organisation)
        first = next_id(Organisation)
        self.orgs: list[Org] = []
        for i in range(self.n_orgs):
            country = weighted(rng, COUNTRY_CODES, COUNTRY_WEIGHTS)
            region, cities = rng.choice(GEOGRAPHY[country][1])
            city = rng.choice(cities)
            kind = weighted(rng, kinds, kind_weights)
            sector = rng.choice(SECTORS)
            name = self.organisation_name(country, kind, sector, region, city)
            short = acronym(name) if rng.random() < 0.8 else ""
            slug = slugs((short and f"{short} {city}") or name)
            website = f"https://www.{slug}.example.org/"
            lang = {"DE": "de", "AT": "de", "PL": "pl"}.get(country, "en")
            desc = self.drop_some(
                self.texts(
                    (
                        "{name} vernetzt Unternehmen der Branche {s} in {city} ({region}).",
                        "{name} connects {s} companies in {city} ({region}).",
                        "{name} łączy firmy z branży: {s}, {city} ({region}).",
                    ),
                    name=name,
                    s=sector,
                    city=city,
                    region=region,
                ),
                lang,
            )
            parent = self.orgs[rng.randrange(len(self.orgs))].id if self.orgs and rng.random() < 0.08 else None
            created = at_nine(random_day(rng, FIRST_DAY, LAST_DAY))
            table.add(
                first + i,
                name,
                short,
                slug,
                kind,
                country,
                region,
                city,
                website,
                *desc,
                lang,
                parent,
                created,
                created,
            )
            self.orgs.append(Org(first + i, slug, name, short or name, country, city, website, kind))
        self.flush(table)
        self.counts["organisations"] = table.count
        # Some organisations sign far more than others (a mild Zipf curve).
        self.org_weights = list(itertools.accumulate(1 / (rank + 5) ** 0.6 for rank in range(len(self.orgs))))

    @staticmethod
    def organisation_name(country, kind, sector, region, city) -> str:
        de, en, pl = sector
        if country in ("DE", "AT"):
            return {
                OrganisationKind.CLUSTER: f"Netzwerk {de} {region}",
                OrganisationKind.ASSOCIATION: f"{de} {city} e. V.",
                OrganisationKind.COMPANY: f"{city} {de} GmbH",
                OrganisationKind.RESEARCH: f"Institut für {de} {city}",
                OrganisationKind.PUBLIC_AUTHORITY: f"Wirtschaftsförderung {city}",
                OrganisationKind.OTHER: f"Stiftung {de} {city}",
            }[kind]
        if country == "PL":
            return {
                OrganisationKind.CLUSTER: f"Klaster {pl} {city}",
                OrganisationKind.ASSOCIATION: f"Stowarzyszenie {pl} {city}",
                OrganisationKind.COMPANY: f"{city} {pl} Sp. z o.o.",
                OrganisationKind.RESEARCH: f"Instytut {pl} {city}",
                OrganisationKind.PUBLIC_AUTHORITY: f"Agencja Rozwoju Regionalnego {city}",
                OrganisationKind.OTHER: f"Fundacja {pl} {city}",
            }[kind]
        return {
            OrganisationKind.CLUSTER: f"{city} {en} Cluster",
            OrganisationKind.ASSOCIATION: f"{en} Association {city}",
            OrganisationKind.COMPANY: f"{city} {en} Ltd.",
            OrganisationKind.RESEARCH: f"{city} Institute of {en}",
            OrganisationKind.PUBLIC_AUTHORITY: f"{city} Investment Agency",
            OrganisationKind.OTHER: f"{en} Foundation {city}",
        }[kind]

    def make_people(self):
        rng = self.rng
        table = self.table(
            Person,
            [
                "id",
                "name",
                "slug",
                "honorific",
                "position_de",
                "position_en",
                "position_pl",
                "language",
                "organisation_id",
                "is_public",
                "created_at",
                "updated_at",
            ],
        )
        slugs = Slugs(Person)
        first = next_id(Person)
        self.people: list[tuple[int, bool]] = []
        count = max(2, self.n_orgs * 3 // 2)
        for i in range(count):
            org = self.orgs[rng.randrange(len(self.orgs))] if rng.random() < 0.9 else None
            country = org.country if org else rng.choice(COUNTRY_CODES)
            firsts, lasts = {"PL": (FIRST_PL, SURNAMES_PL), "CZ": (FIRST_CZ, SURNAMES_CZ)}.get(
                country, (FIRST_DE, SURNAMES_DE)
            )
            name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
            position = weighted(rng, POSITIONS, POSITION_WEIGHTS)
            public = position[4] or rng.random() < 0.25
            honorific = rng.choice(["", "", "", "Dr.", "Prof. Dr.", "Dr. inż."])
            lang = {"PL": "pl", "DE": "de", "AT": "de"}.get(country, "en")
            created = at_nine(random_day(rng, FIRST_DAY, LAST_DAY))
            pid = first + i
            table.add(
                pid,
                name,
                slugs(name),
                honorific,
                *position[:3],
                lang,
                org.id if org else None,
                public,
                created,
                created,
            )
            self.people.append((pid, public))
            if org:
                org.people.append(pid)
        self.flush(table)
        self.counts["people"] = table.count
        self.public_people = [pid for pid, public in self.people if public] or [self.people[0][0]]

    def make_trips(self):
        rng = self.rng
        trips = self.table(
            DelegationTrip,
            [
                "id",
                "title_de",
                "title_en",
                "title_pl",
                "slug",
                "purpose_de",
                "purpose_en",
                "purpose_pl",
                "language",
                "leader_id",
                "organiser_id",
                "destination_country",
                "start_date",
                "end_date",
                "delegation_size",
                "created_at",
                "updated_at",
            ],
        )
        stops = self.table(TripStop, ["trip_id", "city", "arrival_date", "departure_date", "position"])
        self.items = self.table(
            ProgrammeItem,
            [
                "id",
                "trip_id",
                "kind",
                "title_de",
                "title_en",
                "title_pl",
                "description_de",
                "description_en",
                "description_pl",
                "language",
                "date",
                "start_time",
                "end_time",
                "city",
                "venue",
                "participant_count",
                "part_of_id",
                "signing_event_id",
            ],
        )
        through_orgs = DelegationTrip.participant_organisations.through
        through_people = DelegationTrip.participant_people.through
        t_orgs = self.table(through_orgs, ["delegationtrip_id", "organisation_id"])
        t_people = self.table(through_people, ["delegationtrip_id", "person_id"])
        slugs = Slugs(DelegationTrip)
        first = next_id(DelegationTrip)
        self.next_item = next_id(ProgrammeItem)
        self.trips: list[Trip] = []
        organisers = [o for o in self.orgs if o.kind in (OrganisationKind.PUBLIC_AUTHORITY, OrganisationKind.CLUSTER)]
        organisers = organisers or self.orgs
        for i in range(max(2, self.n_agreements // 250)):
            organiser = rng.choice(organisers)
            country = rng.choice([c for c in ("PL", "DE", "CZ", "AT", "FR", "LT") if c != organiser.country])
            names = GEOGRAPHY[country][2]
            cities = sorted({c for _r, cs in GEOGRAPHY[country][1] for c in cs})
            start = random_day(rng, FIRST_DAY, LAST_DAY - datetime.timedelta(days=10))
            end = start + datetime.timedelta(days=rng.randint(0, 5))
            title = (
                f"Delegationsreise von {organiser.display} nach {names[0]} {start.year}",
                f"{organiser.display} delegation trip to {names[1]}, {start.year}",
                f"Podróż delegacji {organiser.display} do kraju: {names[2]}, {start.year}",
            )
            trip_cities = rng.sample(cities, min(len(cities), rng.randint(1, 4)))
            purpose = self.texts(
                (
                    "Rund {n} Unternehmen und Forschungseinrichtungen besuchten {cities}, um Partner zu treffen.",
                    "About {n} companies and research institutes visited {cities} to meet partners.",
                    "Około {n} firm i instytutów badawczych odwiedziło {cities}, aby spotkać partnerów.",
                ),
                n=rng.randint(8, 40),
                cities=", ".join(trip_cities),
            )
            tid = first + i
            lang = rng.choice(LANGS)
            trips.add(
                tid,
                *title,
                slugs(f"{organiser.slug} {country} {start.year}"),
                *self.drop_some(purpose, lang),
                lang,
                rng.choice(self.public_people) if rng.random() < 0.8 else None,
                organiser.id,
                country,
                start,
                end,
                rng.choice([None, rng.randint(8, 60)]),
                at_nine(start, -30),
                at_nine(end, 3),
            )
            days = (end - start).days
            for position, city in enumerate(trip_cities, start=1):
                day = start + datetime.timedelta(days=min(days, position - 1))
                stops.add(tid, city, day, day, position)
            forum_id = None
            for _n in range(rng.randint(2, 8)):
                kind = rng.choice(list(PROGRAMME_TITLES))
                city = rng.choice(trip_cities)
                topic = self.topics[rng.randrange(len(self.topics))][1]
                item_title = self.texts(PROGRAMME_TITLES[kind], city=city, topic=topic)
                desc = self.texts(
                    ("Programmpunkt in {city}.", "Programme item in {city}.", "Punkt programu: {city}."), city=city
                )
                hour = rng.randint(8, 18)
                part_of = forum_id if kind == ProgrammeItemKind.WORKSHOP and forum_id and rng.random() < 0.5 else None
                self.items.add(
                    self.next_item,
                    tid,
                    kind,
                    *item_title,
                    *desc,
                    lang,
                    start + datetime.timedelta(days=rng.randint(0, days)),
                    datetime.time(hour),
                    datetime.time(min(hour + rng.randint(1, 3), 23)),
                    city,
                    rng.choice(VENUES),
                    rng.choice([None, rng.randint(10, 300)]),
                    part_of,
                    None,
                )
                if kind == ProgrammeItemKind.FORUM:
                    forum_id = self.next_item
                self.next_item += 1
            for org_id in sorted({organiser.id, *(rng.choice(self.orgs).id for _ in range(rng.randint(2, 9)))}):
                t_orgs.add(tid, org_id)
            for person_id in sorted({rng.choice(self.people)[0] for _ in range(rng.randint(1, 5))}):
                t_people.add(tid, person_id)
            self.trips.append(Trip(tid, country, start, end, trip_cities, title))
        self.flush(trips, stops, self.items, t_orgs, t_people)
        self.counts["trips"] = trips.count
        self.counts["trip stops"] = stops.count

    def make_agreements(self):
        rng = self.rng
        events = self.table(
            SigningEvent,
            [
                "id",
                "title_de",
                "title_en",
                "title_pl",
                "slug",
                "description_de",
                "description_en",
                "description_pl",
                "language",
                "date",
                "date_precision",
                "venue",
                "city",
                "country",
                "trip_id",
                "created_at",
                "updated_at",
            ],
        )
        e_people = self.table(SigningEvent.people_present.through, ["signingevent_id", "person_id"])
        agreements = self.table(
            Agreement,
            [
                "id",
                "title_de",
                "title_en",
                "title_pl",
                "slug",
                "kind",
                "status",
                "summary_de",
                "summary_en",
                "summary_pl",
                "objectives_de",
                "objectives_en",
                "objectives_pl",
                "language",
                "signed_on",
                "signed_on_precision",
                "signed_date",
                "signed_date_precision",
                "signing_event_id",
                "valid_from",
                "valid_until",
                "is_public",
                "published_at",
                "notice_period_days",
                "terminated_on",
                "termination_reason",
                "predecessor_id",
                "succession",
                "created_at",
                "updated_at",
            ],
        )
        a_topics = self.table(Agreement.topics.through, ["agreement_id", "topic_id"])
        parties = self.table(AgreementParty, ["agreement_id", "organisation_id", "role", "position"])
        signatories = self.table(Signatory, ["agreement_id", "person_id", "organisation_id"])
        documents = self.table(
            AgreementDocument,
            ["agreement_id", "kind", "title", "file", "language", "is_public", "created_at", "updated_at"],
            {"content_type": "application/pdf", "size": 48_213},
        )
        sources = self.table(AgreementSource, ["agreement_id", "kind", "title", "url", "publisher", "published_on"])
        chunk = (events, e_people, self.items, agreements, a_topics, parties, signatories, documents, sources)

        event_slugs = Slugs(SigningEvent)
        agreement_slugs = Slugs(Agreement)
        next_event = next_id(SigningEvent)
        first = next_id(Agreement)
        self.first_agreement = first
        open_event = None  # (id, date, precision, room left)
        concluded_ids: list[int] = []
        statuses = [
            AgreementStatus.SIGNED,
            AgreementStatus.TERMINATED,
            AgreementStatus.NEGOTIATING,
            AgreementStatus.DRAFT,
        ]
        status_weights = list(itertools.accumulate([70, 8, 12, 10]))
        roles_other = [PartyRole.PARTY, PartyRole.SUPPORTER, PartyRole.COORDINATOR]
        for i in range(self.n_agreements):
            aid = first + i
            status = weighted(rng, statuses, status_weights)
            concluded = status in (AgreementStatus.SIGNED, AgreementStatus.TERMINATED)
            kind = weighted(rng, KINDS, KIND_WEIGHTS)
            # Parties: 2-4 distinct organisations, mostly across a border.
            count = rng.choice((2, 2, 2, 3, 3, 4))
            chosen = [rng.choices(self.orgs, cum_weights=self.org_weights)[0]]
            while len(chosen) < count:
                candidate = rng.choices(self.orgs, cum_weights=self.org_weights)[0]
                for _try in range(8):  # mostly a partner from across a border
                    if candidate.country != chosen[0].country or rng.random() < 0.2:
                        break
                    candidate = rng.choices(self.orgs, cum_weights=self.org_weights)[0]
                if candidate not in chosen:
                    chosen.append(candidate)
                elif len(self.orgs) <= count:
                    break
            topic_ids = sorted({self.topics[rng.randrange(len(self.topics))][0] for _ in range(rng.randint(1, 3))})
            main_topic = next(t for tid, t in self.topics if tid == topic_ids[0])
            language = {"DE": "de", "AT": "de", "PL": "pl"}.get(chosen[0].country, "en")

            # Signing: most concluded agreements at a signing event, some known to the month or year only.
            signed_on, precision, event_id, event_day = None, DatePrecision.DAY, None, None
            if concluded:
                if rng.random() < 0.75:
                    if open_event is None or open_event[3] == 0:
                        open_event = self.new_event(events, e_people, event_slugs, next_event, chosen)
                        next_event += 1
                    eid, eday, eprecision, left = open_event
                    open_event = (eid, eday, eprecision, left - 1)
                    event_id, event_day = eid, eday
                    signed_on, precision = (eday, eprecision) if rng.random() < 0.95 else (None, DatePrecision.DAY)
                else:
                    signed_on = random_day(rng, FIRST_DAY, LAST_DAY)
                    precision = rng.choices(list(DatePrecision), cum_weights=[85, 95, 100])[0]
                    signed_on = DatePrecision(precision).truncate(signed_on)
            # The effective signing date, as the database's triggers would set it (migration 0017).
            signed_date, signed_date_precision = signed_on, precision
            if signed_on is None and event_id is not None:
                signed_date, signed_date_precision = event_day, open_event[2]
            anchor = signed_on or event_day or LAST_DAY
            year = anchor.year

            names = [o.display for o in chosen]
            parts = [", ".join(names[:-1]) + f" {AND[k]} " + names[-1] for k in range(3)]
            title = [f"{KIND_NAMES[kind][k]} {BETWEEN[k]} {parts[k]}: {main_topic[k]}" for k in range(3)]
            title = [t[:300] for t in self.drop_some(title, language)]
            picks = rng.sample(SUMMARIES, 2)
            summary = [
                " ".join(p[k] for p in picks).format(topic=main_topic[k], city=chosen[0].city, year=year - 1)
                for k in range(3)
            ]
            goals = rng.sample(OBJECTIVES, rng.randint(2, 3))
            objectives = [OBJECTIVE_LEAD[k] + "; ".join(g[k] for g in goals) + "." for k in range(3)]
            summary = self.drop_some(summary, language)
            objectives = self.drop_some(objectives, language)

            valid_from = valid_until = terminated_on = notice = None
            reason = ""
            if concluded:
                valid_from = signed_on or anchor
                if rng.random() < 0.6:
                    valid_until = valid_from + datetime.timedelta(days=365 * rng.randint(1, 10))
                    notice = rng.choice([None, None, 30, 90, 180])
                if status == AgreementStatus.TERMINATED:
                    terminated_on = (signed_on or anchor) + datetime.timedelta(days=rng.randint(30, 2000))
                    reason = rng.choice(TERMINATION_REASONS)
            is_public = rng.random() < (0.85 if concluded else 0.3)
            published = at_nine(anchor, rng.randint(0, 30)) if is_public and concluded else None
            created = at_nine(anchor, -rng.randint(0, 200))
            updated = max(created, published or created) + datetime.timedelta(days=rng.randint(0, 400))
            predecessor, succession = None, ""
            if concluded and concluded_ids and rng.random() < 0.03:
                predecessor = concluded_ids[rng.randrange(len(concluded_ids))]
                succession = rng.choice(list(SuccessionKind))
            short_kind = {"memorandum_of_understanding": "mou", "letter_of_intent": "loi"}.get(kind, kind.split("_")[0])
            slug_text = (
                f"{short_kind} {' '.join(o.slug.split('-')[0] for o in chosen[:3])} {year if signed_on else status}"
            )
            slug = agreement_slugs(slug_text, max_length=120)

            agreements.add(
                aid,
                *title,
                slug,
                kind,
                status,
                *summary,
                *objectives,
                language,
                signed_on,
                precision,
                signed_date,
                signed_date_precision,
                event_id,
                valid_from,
                valid_until,
                is_public,
                published,
                notice,
                terminated_on,
                reason,
                predecessor,
                succession,
                created,
                updated,
            )
            if concluded:
                concluded_ids.append(aid)
            for tid in topic_ids:
                a_topics.add(aid, tid)
            for position, org in enumerate(chosen):
                if position == 0:
                    role = rng.choices(
                        [PartyRole.LEAD, PartyRole.COORDINATOR, PartyRole.PARTY], cum_weights=[30, 40, 100]
                    )[0]
                else:
                    role = rng.choices(roles_other, cum_weights=[80, 95, 100])[0]
                parties.add(aid, org.id, role, position)
            if concluded and rng.random() < 0.6:
                signed_by = set()
                for org in chosen[:2]:
                    if org.people:
                        person = rng.choice(org.people)
                        if person not in signed_by:
                            signed_by.add(person)
                            signatories.add(aid, person, org.id)
            if concluded:
                for doc_kind, chance, label in (
                    (DocumentKind.SIGNED_SCAN, 0.7, "Unterzeichnete Fassung"),
                    (DocumentKind.TRANSLATION, 0.2, "Übersetzung"),
                    (DocumentKind.ANNEX, 0.1, "Anlage"),
                ):
                    if rng.random() < chance:
                        documents.add(
                            aid,
                            doc_kind,
                            f"{label}: {slug}",
                            f"agreement-documents/{year}/{slug}-{doc_kind}.pdf",
                            rng.choice(LANGS),
                            rng.random() < 0.6,
                            created,
                            created,
                        )
                if is_public and rng.random() < 0.6:
                    for n, org in enumerate(chosen[: rng.randint(1, 2)]):
                        sources.add(
                            aid,
                            SourceKind.PRESS_RELEASE if n == 0 else SourceKind.REPORT,
                            f"{org.display}: {title[0] or title[1] or title[2]}"[:300],
                            f"{org.website}news/{slug}",
                            org.name[:200],
                            anchor + datetime.timedelta(days=rng.randint(0, 14)),
                        )
            if (i + 1) % self.batch_size == 0:
                self.flush(*chunk)
        self.flush(*chunk)
        for label, table in (
            ("signing events", events),
            ("programme items", self.items),
            ("agreements", agreements),
            ("parties", parties),
            ("agreement topics", a_topics),
            ("signatories", signatories),
            ("documents", documents),
            ("sources", sources),
        ):
            self.counts[label] = table.count

    def new_event(self, events, e_people, slugs, eid, parties):
        """A signing event (40 % during a delegation trip) with room for 1-6 agreements."""
        rng = self.rng
        trip = self.trips[rng.randrange(len(self.trips))] if rng.random() < 0.4 else None
        if trip:
            day = trip.start + datetime.timedelta(days=rng.randint(0, (trip.end - trip.start).days))
            precision, country, city = DatePrecision.DAY, trip.country, rng.choice(trip.cities)
        else:
            precision = rng.choices(list(DatePrecision), cum_weights=[90, 97, 100])[0]
            day = DatePrecision(precision).truncate(random_day(rng, FIRST_DAY, LAST_DAY))
            host = rng.choice(parties)
            country, city = host.country, host.city
        title = self.texts(
            (
                "Unterzeichnung von Kooperationsvereinbarungen in {city}",
                "Signing of cooperation agreements in {city}",
                "Podpisanie umów o współpracy w {city}",
            ),
            city=city,
        )
        desc = self.texts(
            (
                "Unterzeichnung am Rande von {what}.",
                "Signed on the occasion of {what}.",
                "Podpisanie przy okazji: {what}.",
            ),
            what=trip.title
            if trip
            else ("einem Unternehmertreffen", "a business meeting", "spotkanie przedsiębiorców"),
        )
        created = at_nine(day)
        lang = rng.choice(LANGS)
        events.add(
            eid,
            *title,
            slugs(f"{city} {day.isoformat()}"),
            *desc,
            lang,
            day,
            precision,
            rng.choice(VENUES),
            city,
            country,
            trip.id if trip else None,
            created,
            created,
        )
        for person_id in sorted({rng.choice(self.public_people) for _ in range(rng.randint(0, 3))}):
            e_people.add(eid, person_id)
        if trip:
            self.items.add(
                self.next_item,
                trip.id,
                ProgrammeItemKind.SIGNING,
                *title,
                *desc,
                lang,
                day,
                datetime.time(rng.randint(9, 17)),
                None,
                city,
                rng.choice(VENUES),
                None,
                None,
                eid,
            )
            self.next_item += 1
        return (eid, day, precision, rng.randint(1, 6))


# --------------------------------------------------------------------------


def check_deferred_constraints(cursor) -> None:
    """Run the foreign-key checks deferred so far now (PostgreSQL); later ones are deferred again."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextlib.contextmanager
def change_feed_paused():
    """The change feed's triggers (``agreements.feed_triggers``) off while the
    registry is loaded, on again before the transaction ends: a generated
    registry is loaded "as of now" (``Command.restart_change_feed``), so the
    per-row entries they would write (and their per-row queries) are not
    needed. PostgreSQL: ``ALTER TABLE … DISABLE TRIGGER`` inside the
    transaction, so a failed load leaves them as they were. Other databases
    keep them (small data sets only)."""
    if connection.vendor != "postgresql":
        yield
        return
    quote = connection.ops.quote_name
    tables = set(connection.introspection.table_names())
    triggers = [
        (table, f"{table}_chg_{event.lower()}")
        for table, *_ in feed_triggers.SOURCES
        if table in tables
        for event in feed_triggers.EVENTS
    ]
    with connection.cursor() as cursor:
        for table, name in triggers:
            cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER {quote(name)}")
    yield
    with connection.cursor() as cursor:
        check_deferred_constraints(cursor)  # a table with pending checks cannot be altered
        for table, name in triggers:
            cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER {quote(name)}")


# Registry records in an order that deletes children before parents.
REPLACED = [
    ExpiryReminder,
    ApiToken,
    Signatory,
    AgreementDocument,
    AgreementSource,
    AgreementParty,
    Agreement.topics.through,
    Agreement,
    ProgrammeItem,
    SigningEvent.people_present.through,
    SigningEvent,
    TripStop,
    DelegationTrip.participant_organisations.through,
    DelegationTrip.participant_people.through,
    DelegationTrip,
    Person,
    Topic,
    Organisation.members.through,
    Organisation,
]
SEQUENCED = [Organisation, Person, Topic, DelegationTrip, ProgrammeItem, SigningEvent, Agreement]


class Command(BaseCommand):
    help = (
        "Fill the registry with a large synthetic data set (organisations, people, topics, delegation trips, "
        "signing events, agreements with parties, topics, signatories, documents and sources). Deterministic "
        "for a given --seed; written in bulk in one transaction. Refuses a database that already holds "
        "agreements unless --replace is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organisations", type=int, default=500, help="Number of organisations (default 500).")
        parser.add_argument("--agreements", type=int, default=50_000, help="Number of agreements (default 50000).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--batch-size", type=int, default=5000, help="Agreements written per batch.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete every organisation, person, topic, trip, signing event and agreement first (with the "
            "API tokens and expiry reminders that hang on them).",
        )

    def handle(self, *args, **options):
        if options["organisations"] < 2:
            raise CommandError("--organisations must be at least 2 (an agreement has two parties).")
        if options["agreements"] < 0 or options["batch_size"] < 1:
            raise CommandError("--agreements must not be negative and --batch-size must be positive.")
        started = time.monotonic()
        with transaction.atomic():
            if Agreement.objects.exists():
                if not options["replace"]:
                    raise CommandError(
                        f"The database already holds {Agreement.objects.count()} agreements; nothing was changed. "
                        "Use an empty database, or --replace to delete the registry's records first."
                    )
                self.delete_registry()
            generator = Generator(
                seed=options["seed"],
                organisations=options["organisations"],
                agreements=options["agreements"],
                batch_size=options["batch_size"],
            )
            with change_feed_paused():
                counts = generator.run()
                self.finish(generator)
            self.restart_change_feed()
        if connection.vendor == "postgresql":
            # Fresh statistics for the planner; outside a transaction also VACUUM, so that
            # index-only scans work at once, as they would after autovacuum in production.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            with connection.cursor() as cursor:
                for model in REPLACED:
                    cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{n} {label}" for label, n in counts.items())
        self.stdout.write(f"Generated {summary} in {elapsed:.1f} s (seed {options['seed']}).")

    def delete_registry(self):
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in REPLACED)
            with connection.cursor() as cursor:
                # Checks deferred to the end of an enclosing transaction must run before TRUNCATE.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"TRUNCATE {tables} CASCADE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for model in REPLACED:
                model.objects.all()._raw_delete(model.objects.db)

    def insert_staged(self, table: Table) -> None:
        """The staged agreements into the registry, each row written once with
        the searchable text that ``search_document()`` defines (its SQL, read
        from the staging table under the registry table's name)."""
        document = search_document()
        copied = [name for name in table.fields if name not in document]
        select = Agreement.objects.annotate(_text=document["search_text"], _title=document["search_title"])
        select = select.order_by("pk").values_list(*copied, "_text", "_title")
        query, params = select.query.sql_with_params()
        quote = connection.ops.quote_name
        source = f"FROM {quote(Agreement._meta.db_table)}"
        if query.count(source + " ") + query.endswith(source) != 1:
            raise CommandError(f"Unexpected SQL for the searchable text: {query}")
        query = query.replace(source, f"FROM {quote('generated_agreement')} {quote(Agreement._meta.db_table)}", 1)
        columns = ", ".join(quote(Agreement._meta.get_field(name).column) for name in copied)
        with connection.cursor() as cursor:
            # The table's plain (not unique) indexes are built again after the rows are in:
            # one build costs far less than as many inserts (the trigram index above all).
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [Agreement._meta.db_table],
            )
            indexes = cursor.fetchall()
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
            cursor.execute(
                f"INSERT INTO {quote(Agreement._meta.db_table)} ({columns}, "
                f"{quote('search_text')}, {quote('search_title')}) {query}",
                params,
            )
            cursor.execute(f"DROP TABLE {quote('generated_agreement')}")
            check_deferred_constraints(cursor)  # a table with pending checks cannot be indexed
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in indexes:
                cursor.execute(definition)

    def restart_change_feed(self):
        """A generated registry is loaded "as of now": its millions of insert
        entries are not kept, and a cursor from before answers 410 (resync)."""
        last = Change.objects.aggregate(last=Max("pk"))["last"]
        if last is None:
            return
        Change.objects.all()._raw_delete(Change.objects.db)
        ChangeFeedState.objects.update_or_create(pk=1, defaults={"pruned_through": last})

    def finish(self, generator: Generator):
        # What Agreement.save() derives: the searchable text, in one statement.
        if connection.vendor != "postgresql":
            Agreement.objects.filter(pk__gte=generator.first_agreement).update(**search_document())
            return
        staged = generator.writer.staged.get(Agreement)
        if staged is not None:
            self.insert_staged(staged)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), SEQUENCED):
                cursor.execute(sql)
