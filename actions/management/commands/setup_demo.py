from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from actions.plan_io import open_format
from axes.models import Plan, PlanRole, Role
from partners.models import Membership, Organisation

VAL_AIGO = Path(settings.BASE_DIR) / "fixtures" / "val-aigo.json"
CAF_31 = "Caisse d'allocations familiales de la Haute-Garonne"

# (username, password, first name, last name, role on Val'Aïgo, organisations, what it shows)
DEMO_ACCOUNTS = [
    ("admin", "ctg-admin-demo", "Alix", "Admin", Role.ADMIN, [], "administrateur (et administration Django)"),
    (
        "coordinateur",
        "ctg-coordinateur-demo",
        "Claire",
        "Dupont",
        Role.COORDINATOR,
        ["Communauté de communes de Val'Aïgo"],
        "coordinatrice CTG de la CCVA : modifie toutes les fiches",
    ),
    (
        "contributeur",
        "ctg-contributeur-demo",
        "Marc",
        "Lefèvre",
        Role.CONTRIBUTOR,
        ["Villemur-sur-Tarn"],
        "référent de Villemur-sur-Tarn : ses fiches et les étapes de sa commune",
    ),
    (
        "lecteur",
        "ctg-lecteur-demo",
        "Élise",
        "Martin",
        Role.READER,
        [],
        "élue, membre du COPIL : lecture seule",
    ),
    (
        "caf",
        "ctg-caf-demo",
        "Karim",
        "Benali",
        None,
        [CAF_31],
        "CAF de la Haute-Garonne : lit tous ses plans",
    ),
]


class Command(BaseCommand):
    help = "Charge le plan de Val'Aïgo s'il est absent et crée un compte de démonstration par rôle."

    def handle(self, *args, **options):
        if not settings.DEMO_ACCOUNTS_ALLOWED:
            raise CommandError(
                "Les comptes de démonstration sont interdits en production (CTG_ENV=production)."
            )
        plan = Plan.objects.filter(slug="val-aigo").first()
        if plan:
            self.stdout.write("Plan de Val'Aïgo déjà chargé : conservé tel quel.")
        else:
            report = open_format.import_plan(open_format.load(VAL_AIGO.read_bytes()))
            plan = report.plan
            self.stdout.write(report.summary())

        User = get_user_model()
        self.stdout.write("\nComptes de démonstration (identifiant / mot de passe) :")
        for username, password, first, last, role, organisations, description in DEMO_ACCOUNTS:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.last_name = first, last
            user.email = f"{username}@demo.suivi-ctg.fr"
            user.is_staff = user.is_superuser = username == "admin"
            user.set_password(password)
            user.save()
            named = [Organisation.objects.get(name=name) for name in organisations]
            if role:
                plan_role, _ = PlanRole.objects.update_or_create(
                    plan=plan, user=user, defaults={"role": role}
                )
                plan_role.organisations.set(named)
            else:  # the CAF's agent reads through the membership of the signatory CAF
                for organisation in named:
                    Membership.objects.get_or_create(user=user, organisation=organisation)
            self.stdout.write(f"  {username:<13} {password:<24} {description}")
