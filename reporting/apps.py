from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Pilotage et rapports"

    def ready(self):
        # The plan's meetings and decisions travel in the open format, which the actions app
        # owns and cannot import us to write: we hand it our part.
        from actions.plan_io import open_format
        from reporting.plan_meetings import EXTENSION

        open_format.register(EXTENSION)
