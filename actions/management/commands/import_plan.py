from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from actions.plan_io import open_format, spreadsheet

MAX_ERRORS_SHOWN = 50


def describe(preview: open_format.Preview) -> str:
    verb = "mis à jour" if preview.plan_exists else "créé"
    lines = [f"Plan « {preview.slug} » ({preview.territory}) : serait {verb}, {preview.axes_text}."]
    for label, numbers in [
        ("Fiches nouvelles", preview.new),
        ("Fiches modifiées", preview.changed),
        ("Fiches inchangées", preview.unchanged),
        ("Fiches archivées (absentes du fichier)", preview.archived),
        ("Fiches restaurées (archivées, de retour dans le fichier)", preview.restored),
    ]:
        lines.append(f"  {label} : {len(numbers)}{' — ' + ', '.join(map(str, numbers)) if numbers else ''}")
    if preview.archived:
        lines.append("  Les fiches archivées gardent leurs notes et leur journal, et restent restaurables.")
    if preview.kept_notes:
        lines.append(f"  Notes de suivi absentes du fichier, conservées : {preview.kept_notes}")
    if preview.territory_change:
        current, wanted = preview.territory_change
        lines.append(f"  Attention : le territoire du plan changerait : « {current} » → « {wanted} ».")
    lines += [f"  {line}" for line in preview.extra]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Crée ou met à jour un plan depuis un fichier ctg-plan/1 (JSON) ou le modèle (xlsx ou ods)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier JSON, xlsx ou ods à importer")
        parser.add_argument("--dry-run", action="store_true", help="affiche l'aperçu sans rien écrire")

    def handle(self, *args, file: str, dry_run: bool = False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {file}")
        try:
            data = spreadsheet.read_document(path.name, path.read_bytes())
            if dry_run:
                self.stdout.write(describe(open_format.preview(data)))
                self.stdout.write("Aperçu seulement (--dry-run) : rien n'a été écrit.")
                return
            # No user: the journal shows the change as "import du <date> de <file>".
            # A backup keeps its documents beside the JSON (<folder>/<slug>/documents/).
            report = open_format.import_plan(data, filename=path.name, folder=path.parent)
        except open_format.PlanFormatError as exc:
            shown = exc.errors[:MAX_ERRORS_SHOWN]
            more = len(exc.errors) - len(shown)
            lines = [f"Import refusé, rien n'a été modifié. {len(exc.errors)} erreur(s) dans {file} :"]
            lines += [f"  - {error}" for error in shown]
            if more:
                lines.append(f"  … et {more} autre(s).")
            raise CommandError("\n".join(lines)) from exc
        self.stdout.write(report.summary())
