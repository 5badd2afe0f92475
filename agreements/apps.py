from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = _("Cooperation agreements")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .search import register_sqlite_functions

        # Search folds text with unaccent(): PostgreSQL's contrib function, ours on SQLite.
        connection_created.connect(register_sqlite_functions, dispatch_uid="agreements_sqlite_functions")

        from .feed_triggers import after_migrate as feed_triggers_after_migrate
        from .feed_triggers import before_migrate as feed_triggers_before_migrate

        pre_migrate.connect(feed_triggers_before_migrate, sender=self, dispatch_uid="agreements_feed_triggers_off")

        # The change feed's triggers, as the schema now is (a later column counts; SQLite rebuilds drop them).
        post_migrate.connect(feed_triggers_after_migrate, sender=self, dispatch_uid="agreements_feed_triggers")

        from .tasks import connect_signals as connect_webhook_signals

        # A committed write queues a webhook sweep (agreements.tasks).
        connect_webhook_signals()

        from .legal import legal_pages_after_migrate

        # The legal pages' first texts, for each kind without a page (as the sites framework's default site).
        post_migrate.connect(legal_pages_after_migrate, sender=self, dispatch_uid="agreements_legal_pages")
