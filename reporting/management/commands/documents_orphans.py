"""Files in the documents' storage that no document names any more: left by a deletion that
cascaded outside the app (a plan, fiche or note deleted in the Django admin). The app's own
deletions remove their files."""

import datetime

from django.core.files.storage import storages
from django.core.management.base import BaseCommand
from django.utils import timezone

from reporting.models import Document

ROOT = "documents"
# A file younger than this may be one being stored right now (the file is written before its row).
GRACE = datetime.timedelta(hours=1)


def stored_names(storage, folder: str = ROOT):
    """Every file under `folder` (documents/<plan>/<key>), through the storage API."""
    if not storage.exists(folder):
        return
    folders, files = storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from stored_names(storage, f"{folder}/{sub}")


class Command(BaseCommand):
    help = (
        "Liste les fichiers du stockage des documents qu'aucun document ne référence plus (suppressions "
        "faites dans l'administration) ; --delete les efface. Les fichiers de moins d'une heure sont laissés."
    )

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="efface les fichiers orphelins")

    def handle(self, *args, delete: bool = False, **options):
        storage = storages["default"]
        known = set(Document.objects.values_list("file", flat=True))
        limit = timezone.now() - GRACE
        orphans = [
            name
            for name in stored_names(storage)
            if name not in known and storage.get_modified_time(name) < limit
        ]
        for name in orphans:
            if delete:
                storage.delete(name)
            self.stdout.write(name)
        verb = "effacé(s)" if delete else "orphelin(s) (--delete pour les effacer)"
        self.stdout.write(f"{len(orphans)} fichier(s) {verb}.")
