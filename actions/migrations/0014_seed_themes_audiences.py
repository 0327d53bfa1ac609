"""The CAF's fields of action and the publics fiches target, as an installation starts with
them; its administrators change these lists in the admin."""

from django.db import migrations

THEMES = [
    ("petite-enfance", "Petite enfance"),
    ("enfance", "Enfance"),
    ("jeunesse", "Jeunesse"),
    ("parentalite", "Parentalité"),
    ("animation-vie-sociale", "Animation de la vie sociale"),
    ("acces-aux-droits", "Accès aux droits"),
    ("logement", "Logement"),
    ("handicap", "Handicap"),
    ("inclusion-numerique", "Inclusion numérique"),
]

AUDIENCES = [
    ("0-3-ans", "0–3 ans"),
    ("3-6-ans", "3–6 ans"),
    ("6-12-ans", "6–12 ans"),
    ("12-17-ans", "12–17 ans"),
    ("18-25-ans", "18–25 ans"),
    ("familles", "Familles"),
    ("parents", "Parents"),
    ("seniors", "Seniors"),
    ("personnes-handicap", "Personnes en situation de handicap"),
    ("tous-publics", "Tous publics"),
]


def seed(apps, schema_editor):
    for model_name, rows in [("Theme", THEMES), ("Audience", AUDIENCES)]:
        model = apps.get_model("actions", model_name)
        for position, (slug, name) in enumerate(rows, start=1):
            model.objects.get_or_create(slug=slug, defaults={"name": name, "position": position})


def unseed(apps, schema_editor):
    for model_name, rows in [("Theme", THEMES), ("Audience", AUDIENCES)]:
        apps.get_model("actions", model_name).objects.filter(
            slug__in=[slug for slug, _ in rows], actions=None
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("actions", "0013_themes_audiences_financing")]

    operations = [migrations.RunPython(seed, unseed)]
