"""Every plan of the installation in the open format, one file each: the backup that travels."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from actions.plan_io import open_format
from axes.models import Plan


class Command(BaseCommand):
    help = (
        "Sauvegarde chaque plan au format ouvert ctg-plan/1 (un fichier JSON par plan), avec ses "
        "réunions, décisions, fiches archivées, notes signées et documents "
        "(leurs fichiers dans <dossier>/<plan>/documents/). "
        "Restauration : import_plan sur chaque fichier."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", required=True, help="dossier où écrire les fichiers")

    def handle(self, *args, output: str, **options):
        folder = Path(output)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"Impossible de créer le dossier « {folder} » : {exc.strerror}.") from exc
        plans = list(Plan.objects.order_by("slug"))
        files = 0
        for plan in plans:
            data = open_format.export_plan(plan, archived=True)
            (folder / f"{plan.slug}.json").write_text(open_format.dumps(data), encoding="utf-8")
            # Documents' bytes beside the JSON, in DIR/<slug>/documents/ (the JSON lists them).
            files += open_format.write_files(plan, folder / plan.slug)
        self.stdout.write(f"{len(plans)} plan(s) et {files} document(s) sauvegardé(s) dans {folder}.")
