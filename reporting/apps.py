from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Pilotage et rapports"

    def ready(self):
        # The plan's meetings, decisions and documents travel in the open format, which the actions app
        # owns and cannot import us to write: we hand it our part.
        from actions.plan_io import open_format
        from reporting import plan_documents, plan_meetings

        open_format.register(plan_meetings.EXTENSION)
        # After the meetings: a document joined to a meeting is restored once its meeting is.
        open_format.register(plan_documents.EXTENSION)
        # The triggers that keep the CAF overview's figures true (reporting/figures.py: why
        # around migrations, not in one).
        pre_migrate.connect(_before_migrating, sender=self)
        post_migrate.connect(_after_migrating, sender=self)


def _before_migrating(using, **kwargs):
    from reporting import figures

    if connections[using].vendor == "sqlite":
        figures.uninstall(connections[using])


def _after_migrating(using, plan=None, **kwargs):
    """After `migrate` (a `plan` given): the triggers in their latest form, the kept figures
    dropped. After a flush (tests): only the missing triggers, if any."""
    from reporting import figures

    connection = connections[using]
    if plan is not None or set(figures.trigger_names()) - figures.installed(connection):
        figures.install(connection)
