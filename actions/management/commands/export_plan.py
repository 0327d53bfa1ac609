from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from actions import plan_format
from axes.models import Plan


class Command(BaseCommand):
    help = "Écrit un plan au format ouvert ctg-plan/1 (JSON)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="identifiant du plan, ex. val-aigo")
        parser.add_argument("--output", "-o", help="fichier à écrire (par défaut : sortie standard)")

    def handle(self, *args, slug: str, output: str | None = None, **options):
        plan = Plan.objects.filter(slug=slug).first()
        if plan is None:
            known = ", ".join(Plan.objects.values_list("slug", flat=True)) or "aucun"
            raise CommandError(f"Aucun plan « {slug} ». Plans connus : {known}.")
        text = plan_format.dumps(plan_format.export_plan(plan))
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Plan « {slug} » écrit dans {output}.")
        else:
            self.stdout.write(text, ending="")
