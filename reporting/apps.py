from django.apps import AppConfig


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
