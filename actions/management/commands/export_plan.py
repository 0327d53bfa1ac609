from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from actions.plan_io import open_format, spreadsheet
from axes.models import Plan


class Command(BaseCommand):
    help = "Écrit un plan au format ouvert ctg-plan/1 (JSON) ou au format du modèle Excel (xlsx)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="identifiant du plan, ex. val-aigo")
        parser.add_argument(
            "--format", choices=["json", "xlsx"], default="json", help="json (défaut) ou xlsx"
        )
        parser.add_argument(
            "--output", "-o", help="fichier à écrire (par défaut : sortie standard, JSON seulement)"
        )

    def handle(self, *args, slug: str, format: str = "json", output: str | None = None, **options):
        plan = Plan.objects.filter(slug=slug).first()
        if plan is None:
            known = ", ".join(Plan.objects.values_list("slug", flat=True)) or "aucun"
            raise CommandError(f"Aucun plan « {slug} ». Plans connus : {known}.")
        data = open_format.export_plan(plan)
        if format == "xlsx":
            if not output:
                raise CommandError("Indiquez le fichier à écrire avec --output pour le format xlsx.")
            Path(output).write_bytes(spreadsheet.workbook_from_data(data))
        elif output:
            Path(output).write_text(open_format.dumps(data), encoding="utf-8")
        else:
            self.stdout.write(open_format.dumps(data), ending="")
            return
        self.stderr.write(f"Plan « {slug} » écrit dans {output}.")
