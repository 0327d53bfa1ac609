from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from actions import plan_format
from axes.models import Plan

VAL_AIGO = Path(settings.BASE_DIR) / "fixtures" / "val-aigo.json"
DEMO_ACCOUNTS = [
    # (username, password, what it is)
    ("admin", "ctg-admin-demo", "superutilisateur (administration Django comprise)"),
]


class Command(BaseCommand):
    help = "Charge le plan de Val'Aïgo s'il est absent et crée les comptes de démonstration."

    def handle(self, *args, **options):
        if not settings.DEMO_ACCOUNTS_ALLOWED:
            raise CommandError(
                "Les comptes de démonstration sont interdits en production (CTG_ENV=production)."
            )
        if Plan.objects.filter(slug="val-aigo").exists():
            self.stdout.write("Plan de Val'Aïgo déjà chargé : conservé tel quel.")
        else:
            report = plan_format.import_plan(plan_format.load(VAL_AIGO.read_bytes()))
            self.stdout.write(report.summary())

        User = get_user_model()
        self.stdout.write("\nComptes de démonstration :")
        for username, password, description in DEMO_ACCOUNTS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            self.stdout.write(f"  identifiant « {username} », mot de passe « {password} » : {description}")
