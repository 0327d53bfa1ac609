from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from axes.models import Plan
from reporting.reports import KINDS, ReportError, build_report


class Command(BaseCommand):
    help = "Écrit un rapport PDF : dossier COPIL, bilan annuel pour la CAF ou fiche-action."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS), help="copil, bilan, fiche ou evaluation")
        parser.add_argument("slug", help="identifiant du plan, ex. val-aigo")
        parser.add_argument("--year", type=int, help="année du bilan (par défaut : l'année en cours)")
        parser.add_argument("--fiche", type=int, help="numéro de la fiche-action (rapport « fiche »)")
        parser.add_argument("--output", "-o", required=True, help="fichier PDF à écrire")

    def handle(self, *args, kind, slug, year=None, fiche=None, output, **options):
        plan = Plan.objects.filter(slug=slug).first()
        if plan is None:
            raise CommandError(f"Aucun plan « {slug} ».")
        if kind == "fiche" and fiche is None:
            raise CommandError("Indiquez la fiche avec --fiche N.")
        try:
            report = build_report(kind, plan, year=year, number=fiche)
        except ReportError as exc:
            raise CommandError(str(exc)) from exc
        Path(output).write_bytes(report.pdf)
        # la fiche-action, l'évaluation finale ; le dossier, le bilan
        written = "écrite" if kind in ("fiche", "evaluation") else "écrit"
        self.stdout.write(f"{KINDS[kind]} {written} dans {output} ({len(report.pdf) // 1024} Ko).")
