"""Four plans laid out as territories lay them out, each typed into the blank template the way a
territory's officer fills it in, then carried through the template and the open format:

- an "Enjeu" plan: the officer renamed the first level's sheet "Enjeux" and its column "Enjeu",
  typed statuses and progress as people type them, dated notes by year or month, gave school-year
  periods, and left an enjeu without fiches;
- a plan of "orientations" with objectives between orientation and fiche, saved by LibreOffice
  as .ods (the sheet and column keep the template's "Axes" and "Axe");
- a plan with financing per fiche, themes and publics, and plan-level partners no fiche names
  (MSA, CPAM, Région, Éducation nationale), signed by a CAF the file does not declare;
- the hand-written plan of tests/assets/plan-coteaux.xlsx.

Each is imported; the same file again writes nothing; its export to the template and to JSON,
each imported into an empty installation, gives the same JSON back; then its plan page, a fiche
page, its dashboard and one PDF read in its own words ("Enjeu 2", its objectives, its financing
totals, its plan-level partners)."""

import io
import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from actions.plan_io import open_format, spreadsheet
from axes.models import Plan, Role
from partners.models import Membership, Organisation
from reporting.reports import build_report
from tests.actions.importing import ods_of
from tests.factories import UserFactory, grant
from tests.pdf import pdf_text

AXE = re.compile(r"\baxes?\b", re.IGNORECASE)
NB = "\u00a0"
CAF = "Caisse d'allocations familiales de la Haute-Garonne"


def visible(html: str) -> str:
    """What a person reads on the page: no tags, scripts or styles; spaces folded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace(NB, " ").split())


def flat(text: str) -> str:
    return " ".join(text.replace(NB, " ").split())


def filled_template(plan: dict, sheets: dict[str, list[list]], *, level_sheet: str | None = None) -> bytes:
    """The blank template as an officer fills it: the Plan sheet's values, rows under each
    sheet's headers; `level_sheet` renames the first level's sheet ("Enjeux") and the columns
    naming it ("Enjeu *"), as an officer does who calls them so."""
    workbook = load_workbook(io.BytesIO(spreadsheet.workbook_from_data()))
    fields = workbook["Plan"]
    rows = {str(cell.value).rstrip(" *"): cell.row for (cell,) in fields.iter_rows(min_row=2, max_col=1)}
    for label, value in plan.items():
        fields.cell(row=rows[label], column=2, value=value)
    for title, lines in sheets.items():
        for line in lines:
            workbook[title].append(line)
    if level_sheet:
        singular = plan["Nom du premier niveau"]
        workbook["Axes"].title = level_sheet
        for title in ("Diagnostic", "Fiches"):
            for cell in workbook[title][1]:
                if cell.value == "Axe *":
                    cell.value = f"{singular} *"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def comparable(data: dict) -> dict:
    data = json.loads(open_format.dumps(data))
    data.pop("exported_at", None)
    return data


def empty_installation() -> None:
    Plan.objects.all().delete()
    Organisation.objects.exclude(parent=None).delete()
    Organisation.objects.all().delete()


def writes_of(call) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        call()
    return [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]


def round_trip(name: str, content: bytes) -> tuple[Plan, dict]:
    """The officer's file imported; the same file again writes nothing; the plan's export to
    the template, then to JSON, each imported into an empty installation, gives the same JSON.
    Returns the plan as the last import left it, and its JSON."""
    plan = open_format.import_plan(spreadsheet.read_document(name, content), filename=name).plan
    exported = comparable(open_format.export_plan(plan))

    again = spreadsheet.read_document(name, content)
    preview = open_format.preview(again)
    assert preview.nothing_to_do, (preview.changed, preview.extra)
    assert writes_of(lambda: open_format.import_plan(again, filename=name)) == []

    template = spreadsheet.workbook_from_data(open_format.export_plan(plan))
    empty_installation()
    plan = open_format.import_plan(spreadsheet.read_document(f"{plan.slug}.xlsx", template)).plan
    assert comparable(open_format.export_plan(plan)) == exported

    text = open_format.dumps(open_format.export_plan(plan))
    empty_installation()
    plan = open_format.import_plan(open_format.load(text.encode())).plan
    assert comparable(open_format.export_plan(plan)) == exported
    return plan, exported


def fiche(data: dict, number: int) -> dict:
    return next(a for axis in data["axes"] for a in axis["actions"] if a["number"] == number)


def pages(client, plan, *, fiche_number: int) -> dict[str, str]:
    urls = {
        "plan": reverse("plan_detail", args=[plan.slug]),
        "fiche": reverse("action_detail", args=[plan.slug, fiche_number]),
        "tableau de bord": reverse("dashboard", args=[plan.slug]),
    }
    texts = {}
    for page, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, page
        texts[page] = visible(response.content.decode())
    return texts


# ---------------------------------------------------------------------------
# An "Enjeu" plan, its sheet and column renamed by the officer


ENJEU_PLAN = {
    "Identifiant": "rives-du-lizon",
    "Titre": "Convention territoriale globale 2023-2027",
    "Territoire": "CC des Rives du Lizon",
    "Année de début": 2023,
    "Année de fin": 2027,
    "Nom du premier niveau": "Enjeu",
    "Signataires": f"{CAF}; Communauté de communes des Rives du Lizon",
}

ENJEU_SHEETS = {
    "Communes": [["Lizac", "31911"], ["Pradelle-sur-Lizon", "31912"]],
    "Organisations": [
        ["Communauté de communes des Rives du Lizon", "CCRL", "EPCI", None, None],
        [CAF, "CAF 31", "CAF", None, None],
        ["Centre social du Lizon", None, "Association", None, None],
    ],
    "Axes": [
        [1, "Soutenir les familles dans leur rôle de parents", "Parentalité"],
        [2, "Animer la vie sociale des villages", "Vie sociale"],
        [3, "Faciliter l'accès aux droits", "Accès aux droits"],
    ],
    "Diagnostic": [
        [1, "Force", "Des parents qui se mobilisent autour des écoles."],
        [1, "Point de vigilance", "Aucun lieu d'accueil enfants-parents."],
        [2, "Force", "Un centre social reconnu."],
    ],
    "Fiches": [
        [
            1,
            1,
            "Ouvrir un lieu d'accueil enfants-parents",
            "Ouvrir un lieu d'accueil enfants-parents itinérant",
            "CC des Rives du Lizon",
            "Communauté de communes des Rives du Lizon",
            "A venir",
            None,
        ],
        [
            2,
            1,
            "Tenir des cafés des parents",
            "Tenir des cafés des parents dans chaque école",
            "Centre social",
            "Centre social du Lizon",
            "Terminée",
            "100 %",
        ],
        [
            3,
            2,
            "Créer une fête des villages",
            "Créer une fête annuelle des villages du Lizon",
            "Centre social et communes",
            "Centre social du Lizon; Lizac",
            "en cours",
            "50 %",
        ],
    ],
    "Étapes": [
        [1, 1, "Trouver une salle dans chaque commune", None, "non"],
        [2, 1, "Choisir les écoles", None, "oui"],
        [3, 1, "Réunir les associations", None, "oui"],
        [3, 2, "Réunion à Lizac", "Lizac", "oui"],
        [3, 1, "Fixer la date de la première fête", None, "non"],
    ],
    "Partenaires": [[3, "Associations des villages", "Animation", None], [1, "CAF", "Financement", CAF]],
    "Conditions": [[3, "Un bénévole référent par village."]],
    "Calendrier": [
        [1, "Année scolaire 2025-2026", "Séances d'essai"],
        [2, "Rentrée scolaire 2024", "Premiers cafés"],
        [3, "2026", "Première fête"],
    ],
    "Indicateurs": [[2, "Parents venus aux cafés", "parents", 0, 80, 2024, 35, "Trois écoles"]],
    "Notes": [
        [2, "2024", "Réalisation", "Coordinatrice CTG", "Trois cafés des parents tenus dans l'année."],
        [3, "mars 2025", "Suivi", "Centre social", "Les associations ont dit oui."],
        [3, "12/05/2025", "Difficulté", "Centre social", "Pas encore de date pour la fête."],
    ],
}


@pytest.fixture
def enjeu_file() -> bytes:
    return filled_template(ENJEU_PLAN, ENJEU_SHEETS, level_sheet="Enjeux")


def test_an_enjeu_plan_round_trips_and_reads_enjeu(client, db, enjeu_file):
    # The command's preview and the app's preview speak of enjeux.
    data = spreadsheet.read_document("lizon.xlsx", enjeu_file)
    assert open_format.preview(data).axes_text == "3 enjeux"
    client.force_login(UserFactory(is_superuser=True))
    upload = client.post(
        reverse("plan_import"), {"fichier": SimpleUploadedFile("lizon.xlsx", enjeu_file)}, follow=True
    )
    preview = visible(upload.content.decode())
    assert "création d'un nouveau plan, 3 enjeux" in preview and not AXE.search(preview), AXE.search(preview)
    client.logout()

    plan, exported = round_trip("lizon.xlsx", enjeu_file)
    assert plan.level_label == "Enjeu"
    # What the officer typed, read as meant and kept through both formats.
    assert [(a["status"], a["progress"]) for a in (fiche(exported, n) for n in (1, 2, 3))] == [
        ("planned", 0),
        ("done", 100),
        ("in_progress", 50),
    ]
    assert [(e["label"], e["start"], e["end"]) for e in fiche(exported, 1)["calendar"]] == [
        ("Année scolaire 2025-2026", "2025-09-01", "2026-08-31")
    ]
    assert [(e["start"], e["end"]) for e in fiche(exported, 2)["calendar"]] == [("2024-09-01", "2024-10-31")]
    assert [(n["date"], n.get("date_precision", "day")) for n in fiche(exported, 3)["notes"]] == [
        ("2025-03-01", "month"),
        ("2025-05-12", "day"),
    ]
    assert [(n["date"], n["date_precision"]) for n in fiche(exported, 2)["notes"]] == [("2024-01-01", "year")]

    client.force_login(grant(UserFactory(), plan, Role.READER))
    texts = pages(client, plan, fiche_number=3)
    for page, text in texts.items():
        assert not AXE.search(text), (page, AXE.search(text))
    assert "Enjeu 2 : Animer la vie sociale des villages" in texts["plan"]
    assert "Aucune fiche-action pour cet enjeu." in texts["plan"]  # enjeu 3
    assert "Enjeu 2 : Animer la vie sociale des villages" in texts["fiche"]
    assert "mars 2025" in texts["fiche"] and "Créer une fête annuelle des villages du Lizon" in texts["fiche"]
    assert "Avancement par enjeu" in texts["tableau de bord"]

    sheet = flat(pdf_text(build_report("fiche", plan, number=3).pdf))
    assert not AXE.search(sheet), AXE.search(sheet)
    assert "Enjeu 2 : Animer la vie sociale des villages" in sheet
    assert "mars 2025" in sheet and "01/03/2025" not in sheet


# ---------------------------------------------------------------------------
# A plan of orientations with objectives, saved by LibreOffice as .ods


OBJECTIVES_PLAN = {
    "Identifiant": "monts-de-lauze",
    "Titre": "Plan d'action de la CTG",
    "Territoire": "CC des Monts de Lauze",
    "Année de début": 2024,
    "Année de fin": 2028,
    "Nom du premier niveau": "Orientation",
    "Signataires": CAF,
}


OBJECTIVES_SHEETS = {
    "Communes": [["Lauze-Haute", "31921"], ["Saint-Pey-de-Lauze", "31922"]],
    "Organisations": [[CAF, "CAF 31", "CAF", None, None]],
    "Axes": [
        [1, "Accompagner les familles", "Parentalité"],
        [2, "Offrir aux jeunes un accueil de qualité", "Jeunesse"],
    ],
    "Fiches": [
        [
            1,
            1,
            "Ouvrir un point info familles",
            "Ouvrir un point info familles",
            "CCML",
            None,
            "En cours",
            30,
            None,
            None,
            "1.1 : Informer les familles",
        ],
        [
            2,
            1,
            "Tenir des ateliers parents",
            "Tenir des ateliers parents",
            "CCML",
            None,
            "À venir",
            0,
            None,
            None,
            "1.2 : Accompagner les parents",
        ],
        [
            3,
            1,
            "Éditer un guide des familles",
            "Éditer un guide des familles",
            "CCML",
            None,
            "En cours",
            60,
            None,
            None,
            "1.1 : Informer les familles",
        ],
        [
            4,
            2,
            "Ouvrir un espace jeunes",
            "Ouvrir un espace jeunes",
            "CCML",
            None,
            "En cours",
            40,
            None,
            None,
            "Créer des lieux pour les jeunes",
        ],
        [
            5,
            2,
            "Recruter un animateur jeunesse",
            "Recruter un animateur jeunesse",
            "CCML",
            None,
            "Réalisée",
            100,
            None,
            None,
            None,
        ],
    ],
    "Étapes": [[4, 1, "Trouver un local", "Lauze-Haute", "oui"]],
    "Calendrier": [[1, "Début 2025", None], [4, "Rentrée 2025", "Ouverture"]],
    "Notes": [[5, "09/2024", "Réalisation", "Coordinateur", "Animateur recruté en septembre."]],
}


def test_a_plan_with_objectives_saved_as_ods_round_trips_and_shows_them(client, db):
    content = ods_of(filled_template(OBJECTIVES_PLAN, OBJECTIVES_SHEETS), percent_progress=True)
    plan, exported = round_trip("lauze.ods", content)
    first, second = exported["axes"]
    assert first["objectives"] == [
        {"code": "1.1", "title": "Informer les familles"},
        {"code": "1.2", "title": "Accompagner les parents"},
    ]
    assert second["objectives"] == [{"code": None, "title": "Créer des lieux pour les jeunes"}]
    assert [a.get("objective") for a in second["actions"]] == ["Créer des lieux pour les jeunes", None]
    assert [a["progress"] for a in first["actions"]] == [
        30,
        0,
        60,
    ]  # percentage cells, as LibreOffice types them

    client.force_login(grant(UserFactory(), plan, Role.READER))
    texts = pages(client, plan, fiche_number=3)
    board = texts["tableau de bord"]
    for page, text in texts.items():
        assert not AXE.search(text), (page, AXE.search(text))
    page = texts["plan"]
    # Fiches under their objective, in the objectives' order; the one without, after them.
    assert (
        page.index("Orientation 1 : Accompagner les familles")
        < page.index("Objectif 1.1 : Informer les familles")
        < page.index("Éditer un guide des familles")
        < page.index("Objectif 1.2 : Accompagner les parents")
        < page.index("Tenir des ateliers parents")
        < page.index("Orientation 2 : Offrir aux jeunes un accueil de qualité")
        < page.index("Créer des lieux pour les jeunes")
        < page.index("Ouvrir un espace jeunes")
        < page.index("Sans objectif")
        < page.index("Recruter un animateur jeunesse")
    )
    assert "Orientation 1 : Accompagner les familles Objectif 1.1 : Informer les familles" in texts["fiche"]
    assert "Avancement par orientation" in board

    sheet = flat(pdf_text(build_report("fiche", plan, number=3).pdf))
    assert "Orientation 1 : Accompagner les familles" in sheet
    assert "Objectif 1.1 : Informer les familles" in sheet
    assert not AXE.search(sheet), AXE.search(sheet)


# ---------------------------------------------------------------------------
# A plan with financing per fiche and plan-level partners, signed by an undeclared CAF


FINANCING_PLAN = {
    "Identifiant": "pays-de-serac",
    "Titre": "Convention territoriale globale 2024-2028",
    "Territoire": "CC du Pays de Sérac",
    "Année de début": 2024,
    "Année de fin": 2028,
    "Signataires": "CAF de la Haute-Garonne; Communauté de communes du Pays de Sérac",
}

# Declared, named by no fiche: the plan's partners (MSA, CPAM, Région, Éducation nationale…).
PLAN_LEVEL = [
    ["MSA Midi-Pyrénées Nord", "MSA", "MSA", "MSA"],
    ["CPAM de la Haute-Garonne", "CPAM 31", "CPAM", "CPAM"],
    ["Région Occitanie", None, "Conseil régional", "Région"],
    ["DSDEN de la Haute-Garonne", "DSDEN 31", "Education nationale", "Éducation nationale"],
    ["Conseil départemental de la Haute-Garonne", "CD31", "Département", "Département"],
]

FINANCING_SHEETS = {
    "Communes": [["Sérac", "31931"], ["Mounès-de-Sérac", "31932"]],
    "Organisations": [["Communauté de communes du Pays de Sérac", "CCPS", "EPCI", None, None]]
    + [[name, short, typed, None, None] for name, short, typed, _ in PLAN_LEVEL],
    "Axes": [[1, "La petite enfance", "Petite enfance"], [2, "La jeunesse", "Jeunesse"]],
    "Fiches": [
        [
            1,
            1,
            "Ouvrir une micro-crèche",
            "Ouvrir une micro-crèche à Sérac",
            "Commune de Sérac",
            "Sérac",
            "En cours",
            40,
            "parentalite; Petite enfance",
            "Familles; 0-3 ans",
        ],
        [
            2,
            1,
            "Créer un relais petite enfance",
            "Créer un relais petite enfance",
            "CCPS",
            "Communauté de communes du Pays de Sérac",
            "À venir",
            0,
            "petite enfance",
            "Parents",
        ],
        [
            3,
            2,
            "Ouvrir un accueil jeunes",
            "Ouvrir un accueil jeunes l'été",
            "CCPS",
            "Communauté de communes du Pays de Sérac",
            "En cours",
            20,
            "Jeunesse",
            "12-17 ans",
        ],
    ],
    # Fiche, Financeur, Organisation, Dispositif, Année, prévu, accordé, dépensé
    "Financements": [
        [1, "CAF 31", "CAF de la Haute-Garonne", "Prestation de service", 2024, 12500, 12000, 8000],
        [1, "Commune de Sérac", "Sérac", None, 2025, "2 500,50", None, None],
        [3, "CAF 31", "CAF de la Haute-Garonne", "Bonus territoire CTG", 2025, 4000, 4000, None],
        [3, "Département", "Conseil départemental de la Haute-Garonne", None, 2025, "3 000 €", 1500, 1500],
    ],
}


def test_a_plan_with_financing_and_plan_level_partners_round_trips_and_adds_up(client, db):
    content = filled_template(FINANCING_PLAN, FINANCING_SHEETS)
    report = open_format.import_plan(spreadsheet.read_document("serac.xlsx", content), filename="serac.xlsx")
    # Every organisation of the sheet is created, named by a fiche or not.
    assert {name for name, *_ in PLAN_LEVEL} <= set(report.new_organisations)
    empty_installation()

    plan, exported = round_trip("serac.xlsx", content)
    kinds = {o["name"]: o["kind"] for o in exported["plan"]["organisations"]}
    assert [kinds[name] for name, *_ in PLAN_LEVEL] == ["msa", "cpam", "region", "education", "departement"]
    assert kinds["CAF de la Haute-Garonne"] == "caf"  # undeclared: its name says it
    creche = fiche(exported, 1)
    assert (creche["themes"], creche["audiences"]) == (
        ["Petite enfance", "Parentalité"],
        ["0–3 ans", "Familles"],
    )
    assert creche["financing"][1] == {
        "funder": "Commune de Sérac",
        "organisation": "Sérac",
        "scheme": None,
        "year": 2025,
        "planned": 2500.5,
        "granted": None,
        "spent": None,
    }

    client.force_login(grant(UserFactory(), plan, Role.READER))
    texts = pages(client, plan, fiche_number=1)
    page = texts["plan"]
    assert "Organisations du plan" in page
    for name, short, _, label in PLAN_LEVEL:
        assert f"{name}{f' ({short})' if short else ''} — {label}" in page, name
    board = texts["tableau de bord"]
    # Totals written from the lines above: axis 1 = fiche 1, axis 2 = fiche 3.
    assert "Axe 1 : La petite enfance 15 000,50 € 12 000 € 8 000 €" in board
    assert "Axe 2 : La jeunesse 7 000 € 5 500 € 1 500 €" in board
    assert "CAF 31 16 500 € 16 000 € 8 000 €" in board
    assert "2025 9 500,50 € 5 500 € 1 500 €" in board
    assert "4 lignes de financement : 22 000,50 € prévus, 17 500 € accordés, 9 500 € dépensés." in board
    assert "Prestation de service" in texts["fiche"] and "Commune de Sérac" in texts["fiche"]

    # The CAF the plan names as signatory, undeclared: its staff read the plan.
    caf_agent = UserFactory()
    Membership.objects.create(
        user=caf_agent, organisation=Organisation.objects.get(name="CAF de la Haute-Garonne")
    )
    client.force_login(caf_agent)
    assert client.get(reverse("plan_detail", args=[plan.slug])).status_code == 200

    copil = flat(pdf_text(build_report("copil", plan).pdf))
    assert "Axe 1 : La petite enfance 15 000,50 € 12 000 € 8 000 €" in copil
    assert "Département 3 000 € 1 500 € 1 500 €" in copil


# ---------------------------------------------------------------------------
# The plan written by hand in tests/assets


def test_the_hand_written_plan_round_trips_and_reads_enjeu(client, db, capsys):
    path = Path(__file__).resolve().parents[1] / "assets" / "plan-coteaux.xlsx"
    call_command("import_plan", str(path), "--dry-run")
    assert "serait créé, 4 enjeux." in capsys.readouterr().out
    plan, exported = round_trip(path.name, path.read_bytes())
    assert (len(exported["axes"]), sum(len(a["actions"]) for a in exported["axes"])) == (4, 12)

    client.force_login(grant(UserFactory(), plan, Role.READER))
    texts = pages(client, plan, fiche_number=8)
    for page, text in texts.items():
        assert not AXE.search(text), (page, AXE.search(text))
    assert (
        "Enjeu 2 : Développer une offre d'accueil du jeune enfant adaptée aux besoins des familles"
        in texts["plan"]
    )
    assert "Enjeu 3 : Structurer une offre enfance-jeunesse" in texts["fiche"]
    assert "Avancement par enjeu" in texts["tableau de bord"]

    sheet = flat(pdf_text(build_report("fiche", plan, number=4).pdf))
    assert "Enjeu 2 : Développer une offre d'accueil du jeune enfant" in sheet
    assert "Le gestionnaire est choisi" in sheet
    assert not AXE.search(sheet), AXE.search(sheet)


# ---------------------------------------------------------------------------
# What the template carries besides the fiches: the level's words, every objective, and the
# preview of a file that changes only these


def test_the_level_s_words_and_every_objective_go_through_the_template(db):
    """A plan whose level's plural and gender cannot be deduced ("Champ", "Champs d'action"),
    with an objective no fiche names yet and objectives in an order their fiches do not follow:
    the template gives them back (they were lost, and the preview said nothing would change)."""
    from axes.models import Objective
    from tests.factories import ActionFactory, AxisFactory, PlanFactory

    plan = PlanFactory(slug="champs", level_label="Champ", level_plural="Champs d'action", level_gender="m")
    axis = AxisFactory(plan=plan, number=1, title="Les familles")
    second = Objective.objects.create(axis=axis, position=1, code="1.2", title="Informer")
    first = Objective.objects.create(axis=axis, position=2, code="1.1", title="Accompagner")
    Objective.objects.create(axis=axis, position=3, code="1.3", title="Loger les saisonniers")
    ActionFactory(plan=plan, axis=axis, number=1, objective=first)
    ActionFactory(plan=plan, axis=axis, number=2, objective=second)
    exported = comparable(open_format.export_plan(plan))

    content = spreadsheet.workbook_from_data(open_format.export_plan(plan))
    workbook = load_workbook(io.BytesIO(content))
    assert "Champs d'action" in workbook.sheetnames
    lists = {str(dv.sqref)[0]: dv.formula1 for dv in workbook["Fiches"].data_validations.dataValidation}
    assert lists["B"] == "'Champs d''action'!$A$2:$A$10001"  # the quote doubled, as Excel writes it
    fields = {row[0].value: row[1].value for row in workbook["Plan"].iter_rows(min_row=2)}
    assert (fields["Pluriel du premier niveau"], fields["Genre du premier niveau"]) == (
        "Champs d'action",
        "masculin",
    )
    read = spreadsheet.read_document("champs.xlsx", content)
    assert open_format.preview(read).nothing_to_do
    empty_installation()
    plan = open_format.import_plan(read).plan
    assert comparable(open_format.export_plan(plan)) == exported
    assert (plan.level.plural, plan.level.this) == ("Champs d'action", "ce champ")


def test_a_plan_too_long_a_plural_for_a_sheet_name_keeps_axes():
    content = spreadsheet.workbook_from_data(
        {"plan": {"level_label": "Axe stratégique de la convention"}, "axes": []}
    )
    assert "Axes" in load_workbook(io.BytesIO(content)).sheetnames  # Excel's names: 31 characters


def test_the_number_of_an_objective_is_enough_in_the_fiches_sheet(db):
    def objectives(workbook):
        workbook["Objectifs"].append([1, "1.1", "Accompagner les parents"])
        workbook["Fiches"].cell(row=2, column=11).value = "1.1"

    workbook = load_workbook(io.BytesIO(filled_template(ENJEU_PLAN, ENJEU_SHEETS, level_sheet="Enjeux")))
    objectives(workbook)
    out = io.BytesIO()
    workbook.save(out)
    data = spreadsheet.read_document("lizon.xlsx", out.getvalue())
    assert data["axes"][0]["objectives"] == [{"code": "1.1", "title": "Accompagner les parents"}]
    assert fiche(data, 1)["objective"] == "Accompagner les parents"


def test_a_missing_level_sheet_is_said_once_with_the_names_it_may_bear(db):
    """Renaming the sheet to another word than the plan's gave 22 errors and no hint: one now,
    naming what the sheet may be called and what the workbook holds."""
    workbook = load_workbook(io.BytesIO(filled_template(ENJEU_PLAN, ENJEU_SHEETS)))
    workbook["Axes"].title = "Nos priorités"
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(open_format.PlanFormatError) as refused:
        spreadsheet.read_document("lizon.xlsx", out.getvalue())
    assert refused.value.errors == [
        "Feuille « Enjeux » manquante : la feuille des enjeux s'appelle « Enjeux » ou « Axes » (feuilles de "
        "ce classeur : Lisez-moi, Plan, Communes, Organisations, Nos priorités, Diagnostic, Objectifs, "
        "Fiches, Étapes, Partenaires, Conditions, Calendrier, Indicateurs, Notes, Financements)."
    ]


def test_a_file_changing_only_the_plan_and_its_enjeux_says_so(client, db, enjeu_file):
    """A corrected enjeu title, diagnostic or objective, plan title or years, communes: the
    preview lists them (it said "Ce fichier ne change rien au plan." and they were written
    anyway); confirmed, they are written, and the same file again changes nothing."""
    plan = open_format.import_plan(spreadsheet.read_document("lizon.xlsx", enjeu_file)).plan

    def corrected(workbook):
        fields = workbook["Plan"]
        for label, value in fields.iter_rows(min_row=2):
            if label.value == "Titre *":
                value.value = "CTG des Rives du Lizon 2023-2027"
        workbook["Enjeux"]["B3"] = "Animer la vie sociale des villages et des hameaux"
        workbook["Diagnostic"].append([3, "Force", "Une maison France services à Lizac."])
        workbook["Objectifs"].append([1, "1.1", "Accueillir les parents"])
        workbook["Communes"].append(["Bourdic-sur-Lizon", "31913"])

    workbook = load_workbook(io.BytesIO(enjeu_file))
    corrected(workbook)
    out = io.BytesIO()
    workbook.save(out)
    data = spreadsheet.read_document("lizon.xlsx", out.getvalue())
    preview = open_format.preview(data)
    assert not preview.nothing_to_do and preview.changed == []
    assert preview.extra[:5] == [
        "Titre du plan : « Convention territoriale globale 2023-2027 » → "
        "« CTG des Rives du Lizon 2023-2027 ».",
        "Communes du plan — en plus : Bourdic-sur-Lizon.",
        "Enjeu 1 modifié : objectifs.",
        "Enjeu 2 modifié : intitulé.",
        "Enjeu 3 modifié : diagnostic.",
    ]
    open_format.import_plan(data, filename="lizon.xlsx")
    plan.refresh_from_db()
    assert plan.title == "CTG des Rives du Lizon 2023-2027"
    assert plan.axes.get(number=2).title == "Animer la vie sociale des villages et des hameaux"
    assert open_format.preview(spreadsheet.read_document("lizon.xlsx", out.getvalue())).nothing_to_do

    client.force_login(UserFactory(is_superuser=True))
    page = client.post(
        reverse("plan_import"), {"fichier": SimpleUploadedFile("lizon.xlsx", enjeu_file)}, follow=True
    )
    text = visible(page.content.decode())
    assert "Enjeu 2 modifié : intitulé." in text and "Ce fichier ne change rien" not in text
