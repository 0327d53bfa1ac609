from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from actions import plan_format

MAX_ERRORS_SHOWN = 50


class Command(BaseCommand):
    help = "Crée ou met à jour un plan depuis un fichier au format ouvert ctg-plan/1 (JSON)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier JSON à importer")

    def handle(self, *args, file: str, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {file}")
        try:
            data = plan_format.load(path.read_bytes())
            report = plan_format.import_plan(data)
        except plan_format.PlanFormatError as exc:
            shown = exc.errors[:MAX_ERRORS_SHOWN]
            more = len(exc.errors) - len(shown)
            lines = [f"Import refusé, rien n'a été modifié. {len(exc.errors)} erreur(s) dans {file} :"]
            lines += [f"  - {error}" for error in shown]
            if more:
                lines.append(f"  … et {more} autre(s).")
            raise CommandError("\n".join(lines)) from exc
        self.stdout.write(report.summary())
