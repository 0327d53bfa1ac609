"""A plan's own words for its first level ("Axe", "Enjeu", "Orientation"…) and its optional
objectives between axis and fiche, on every page, PDF and export that names them."""

import io
import re
from html import unescape

import jsonschema
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from actions.plan_io import open_format, spreadsheet
from actions.plan_io.errors import PlanFormatError
from axes.levels import LevelWords
from axes.models import Objective, Plan, Role
from reporting.reports import build_report
from tests.factories import ActionFactory, AxisFactory, PlanFactory, UserFactory, grant
from tests.pdf import pdf_text

AXE = re.compile(r"\baxes?\b", re.IGNORECASE)


def visible_text(html: str) -> str:
    """What a person reads on the page: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize(
    "label, plural, the, this, none",
    [
        ("Axe", "Axes", "l'axe", "cet axe", "Aucun axe"),
        ("Enjeu", "Enjeux", "l'enjeu", "cet enjeu", "Aucun enjeu"),
        ("Orientation", "Orientations", "l'orientation", "cette orientation", "Aucune orientation"),
        ("Priorité", "Priorités", "la priorité", "cette priorité", "Aucune priorité"),
        ("Volet", "Volets", "le volet", "ce volet", "Aucun volet"),
        (
            "Axe stratégique",
            "Axes stratégiques",
            "l'axe stratégique",
            "cet axe stratégique",
            "Aucun axe stratégique",
        ),
        (
            "Axe de travail",
            "Axes de travail",
            "l'axe de travail",
            "cet axe de travail",
            "Aucun axe de travail",
        ),
    ],
)
def test_the_words_of_a_level(label, plural, the, this, none):
    level = LevelWords.of(label)
    assert (level.singular, level.plural, level.the, level.this, level.none) == (
        label,
        plural,
        the,
        this,
        none,
    )


def test_a_plan_states_what_cannot_be_deduced():
    level = LevelWords.of("Finalité", "Finalités", "m")
    assert (
        level.this == "ce finalité" and LevelWords.of("Champ", "Champs d'action").plural == "Champs d'action"
    )
    assert LevelWords.of("Enjeu").count(1) == "1 enjeu" and LevelWords.of("Enjeu").count(5) == "5 enjeux"
    assert LevelWords.of("Enjeu").per == "par enjeu" and LevelWords.of("Priorité").of_the == "de la priorité"


@pytest.fixture
def enjeu_plan(db):
    """A plan of two "enjeux", the second without fiches, the first with two fiches."""
    plan = PlanFactory(slug="coteaux", title="Convention territoriale globale 2023-2027", level_label="Enjeu")
    first = AxisFactory(plan=plan, number=1, title="Soutenir les familles")
    AxisFactory(plan=plan, number=2, title="Animer la vie sociale")
    ActionFactory(axis=first, number=1, title="Ouvrir un lieu d'accueil enfants-parents")
    ActionFactory(axis=first, number=2, title="Créer un guide des familles")
    return plan


@pytest.fixture
def enjeu_client(client, enjeu_plan):
    client.force_login(grant(UserFactory(), enjeu_plan, Role.ADMIN))
    return client


def test_an_enjeu_plan_reads_enjeu_on_its_pages(enjeu_client, enjeu_plan):
    pages = {
        "plan": reverse("plan_detail", kwargs={"slug": "coteaux"}),
        "tableau de bord": reverse("dashboard", kwargs={"slug": "coteaux"}),
        "fiches": reverse("action_list", kwargs={"slug": "coteaux"}),
        "fiche": reverse("action_detail", kwargs={"slug": "coteaux", "number": 1}),
        "rapports": reverse("reports", kwargs={"slug": "coteaux"}),
    }
    texts = {}
    for name, url in pages.items():
        response = enjeu_client.get(url)
        assert response.status_code == 200, name
        texts[name] = visible_text(response.content.decode())
        assert not AXE.search(texts[name]), (name, AXE.search(texts[name]))
    assert "Enjeu 1 : Soutenir les familles" in texts["plan"]
    assert "Aucune fiche-action pour cet enjeu." in texts["plan"]
    # The title says its years: they are not repeated beside the territory.
    assert f"globale 2023-2027 {enjeu_plan.territory} Tableau de bord" in texts["plan"]
    assert "Avancement par enjeu" in texts["tableau de bord"]
    assert "Avancement moyen par enjeu" in texts["tableau de bord"]
    assert "Statut des fiches par enjeu" in texts["tableau de bord"]
    assert "Enjeu 1 : Soutenir les familles" in texts["fiche"]
    assert "Enjeu Pilotage" in texts["fiches"]  # the filter's label, then the table's column
    assert "une synthèse par enjeu" in texts["rapports"]


def test_an_enjeu_plan_reads_enjeu_on_paper(enjeu_plan):
    texts = {}
    for kind, options in [
        ("copil", {}),
        ("bilan", {"year": 2025}),
        ("evaluation", {}),
        ("fiche", {"number": 1}),
    ]:
        text = texts[kind] = pdf_text(build_report(kind, enjeu_plan, **options).pdf)
        assert not AXE.search(text), (kind, AXE.search(text))
        assert "Enjeu 1" in text, kind
    copil = texts["copil"]
    assert "Avancement moyen par enjeu" in copil and "Statut des fiches par enjeu" in copil
    assert "Objectif" not in copil  # a plan without objectives reads as before on paper too
    # The cover: the title says its years, they are not repeated after it.
    assert "Convention territoriale globale 2023-2027, 2023-2027" not in copil
    assert "Convention territoriale globale 2023-2027" in copil


def test_the_cover_adds_the_period_a_title_does_not_say(enjeu_plan):
    enjeu_plan.title = "Plan d'action de la CTG"
    enjeu_plan.save()
    assert "Plan d'action de la CTG, 2023-2027" in pdf_text(build_report("copil", enjeu_plan).pdf)


def test_an_enjeu_plan_exports_enjeu_headers(enjeu_client):
    from openpyxl import load_workbook

    response = enjeu_client.get(
        reverse("export", kwargs={"slug": "coteaux", "what": "fiches", "fmt": "xlsx"})
    )
    header = [cell.value for cell in next(load_workbook(io.BytesIO(response.content)).active.iter_rows())]
    assert header[1:3] == ["Enjeu", "Intitulé (enjeu)"]
    assert not any(AXE.search(str(cell)) for cell in header)


def test_a_feminine_level_agrees(enjeu_client, enjeu_plan):
    enjeu_plan.level_label = "Orientation"
    enjeu_plan.save()
    text = visible_text(enjeu_client.get(reverse("plan_detail", kwargs={"slug": "coteaux"})).content.decode())
    assert "Aucune fiche-action pour cette orientation." in text and "Orientation 2" in text


# ---------------------------------------------------------------------------
# Objectives


@pytest.fixture
def objectives_plan(enjeu_plan):
    """The enjeu plan with two objectives under its first enjeu, fiche 2 under the first."""
    axis = enjeu_plan.axes.get(number=1)
    first = Objective.objects.create(axis=axis, position=1, code="1.1", title="Accompagner les parents")
    Objective.objects.create(axis=axis, position=2, code="1.2", title="Informer les familles")
    ActionFactory(axis=axis, number=3, title="Tenir des cafés des parents", objective=first)
    enjeu_plan.actions.filter(number=2).update(objective=first)
    return enjeu_plan


def test_a_plan_with_objectives_shows_them(enjeu_client, objectives_plan):
    text = visible_text(enjeu_client.get(reverse("plan_detail", kwargs={"slug": "coteaux"})).content.decode())
    # Fiches under their objective, in the objectives' order; those without one after them.
    assert text.index("Objectif 1.1 : Accompagner les parents") < text.index("Créer un guide des familles")
    assert text.index("Tenir des cafés des parents") < text.index("Sans objectif")
    assert text.index("Sans objectif") < text.index("Ouvrir un lieu d'accueil enfants-parents")
    assert "Informer les familles" not in text  # an objective without fiches is not listed
    fiche = visible_text(
        enjeu_client.get(reverse("action_detail", kwargs={"slug": "coteaux", "number": 2})).content.decode()
    )
    assert "Enjeu 1 : Soutenir les familles Objectif 1.1 : Accompagner les parents" in fiche
    copil = pdf_text(build_report("copil", objectives_plan).pdf)
    assert "Objectif 1.1 : Accompagner les parents" in copil
    sheet = pdf_text(build_report("fiche", objectives_plan, number=3).pdf)
    assert "Objectif 1.1 : Accompagner les parents" in sheet


def test_a_plan_without_objectives_reads_as_before(enjeu_client, enjeu_plan):
    text = visible_text(enjeu_client.get(reverse("plan_detail", kwargs={"slug": "coteaux"})).content.decode())
    assert "Objectif" not in text and "Sans objectif" not in text
    # Its dossier COPIL: test_an_enjeu_plan_reads_enjeu_on_paper (the same plan, one PDF less).


def test_an_objective_belongs_to_the_fiche_s_axis(objectives_plan):
    other_axis = objectives_plan.axes.get(number=2)
    elsewhere = Objective.objects.create(axis=other_axis, title="Ailleurs")
    fiche = objectives_plan.actions.get(number=1)
    fiche.objective = elsewhere
    with pytest.raises(ValidationError) as refused:
        fiche.full_clean()
    assert refused.value.message_dict["objective"] == [
        "Cet objectif relève d’un autre enjeu que celui de la fiche."
    ]


# ---------------------------------------------------------------------------
# The open format (ctg-plan/1) carries the words and the objectives, as extension fields


def without_timestamp(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "exported_at"}


def test_objectives_and_words_round_trip_through_json(objectives_plan, tmp_path, capsys):
    objectives_plan.level_plural, objectives_plan.level_gender = "Enjeux", "m"
    objectives_plan.save()
    data = open_format.export_plan(objectives_plan)
    # The public schema still holds: the additions are fields it lets producers add.
    jsonschema.validate(data, open_format.SCHEMA)
    assert (data["plan"]["level_label"], data["plan"]["level_plural"], data["plan"]["level_gender"]) == (
        "Enjeu",
        "Enjeux",
        "m",
    )
    first, second = data["axes"]
    assert first["objectives"] == [
        {"code": "1.1", "title": "Accompagner les parents"},
        {"code": "1.2", "title": "Informer les familles"},
    ]
    assert "objectives" not in second  # an axis without objectives reads as before
    assert [a.get("objective") for a in first["actions"]] == [
        None,
        "Accompagner les parents",
        "Accompagner les parents",
    ]

    path = tmp_path / "coteaux.json"
    path.write_text(open_format.dumps(data), encoding="utf-8")
    objectives_plan.delete()
    call_command("import_plan", str(path))
    assert "Plan « coteaux » créé : 2 enjeux, 3 fiches-actions." in capsys.readouterr().out
    plan = Plan.objects.get(slug="coteaux")
    assert plan.actions.get(number=3).objective.label == "Objectif 1.1"
    assert without_timestamp(open_format.export_plan(plan)) == without_timestamp(data)

    # The same file again changes nothing; the command's preview speaks the plan's words.
    versions = list(plan.actions.order_by("number").values_list("version", flat=True))
    call_command("import_plan", str(path), "--dry-run")
    assert "serait mis à jour, 2 enjeux." in capsys.readouterr().out
    call_command("import_plan", str(path))
    assert "(3 inchangées)" in capsys.readouterr().out
    assert list(plan.actions.order_by("number").values_list("version", flat=True)) == versions


def test_a_file_moves_a_fiche_to_another_objective(objectives_plan):
    data = open_format.export_plan(objectives_plan)
    data["axes"][0]["objectives"][1]["code"] = "1.3"
    data["axes"][0]["actions"][2]["objective"] = "Informer les familles"
    data["axes"][0]["actions"][1].pop("objective")
    open_format.import_plan(data)
    fiches = {a.number: a.objective for a in objectives_plan.actions.select_related("objective")}
    assert fiches[2] is None and str(fiches[3]) == "Objectif 1.3 : Informer les familles"


def test_a_fiche_naming_an_objective_its_axis_lacks_is_refused(objectives_plan):
    data = open_format.export_plan(objectives_plan)
    data["axes"][0]["actions"][0]["objective"] = "Objectif inconnu"
    data["axes"][0]["objectives"].append({"code": None, "title": "Informer les familles"})
    errors = open_format.validate(data)
    assert "axes[0].objectives : l'objectif « Informer les familles » apparaît 2 fois" in errors
    assert (
        "axes[0].actions[0].objective : l'objectif « Objectif inconnu » n'est pas dans axes[0].objectives"
        in errors
    )


def test_objectives_and_words_round_trip_through_the_xlsx_template(objectives_plan):
    from openpyxl import load_workbook

    objectives_plan.actions.filter(number=1).update(
        objective=Objective.objects.get(title="Informer les familles")
    )
    data = open_format.export_plan(objectives_plan)
    content = spreadsheet.workbook_from_data(data)
    workbook = load_workbook(io.BytesIO(content))
    # The sheet and the column are named after the plan's level.
    assert "Enjeux" in workbook.sheetnames and "Axes" not in workbook.sheetnames
    header = [cell.value for cell in workbook["Fiches"][1]]
    assert header[:2] == ["Numéro *", "Enjeu *"] and header[-1] == "Objectif"
    assert [cell.value for cell in workbook["Diagnostic"][1]][0] == "Enjeu *"
    assert workbook["Fiches"].cell(row=2, column=len(header)).value == "1.2 : Informer les familles"

    # The objectives in the plan's order, on their own sheet, fiches or not.
    assert [[cell.value for cell in row] for row in workbook["Objectifs"].iter_rows()] == [
        ["Enjeu *", "Numéro", "Intitulé *"],
        [1, "1.1", "Accompagner les parents"],
        [1, "1.2", "Informer les familles"],
    ]
    read = spreadsheet.read_document("coteaux.xlsx", content)
    assert read["axes"][0]["objectives"] == [
        {"code": "1.1", "title": "Accompagner les parents"},
        {"code": "1.2", "title": "Informer les familles"},
    ]
    objectives_plan.delete()
    plan = open_format.import_plan(read).plan
    assert {a.number: str(a.objective) for a in plan.actions.select_related("objective")} == {
        1: "Objectif 1.2 : Informer les familles",
        2: "Objectif 1.1 : Accompagner les parents",
        3: "Objectif 1.1 : Accompagner les parents",
    }
    assert plan.level_label == "Enjeu"


def test_the_template_s_errors_speak_the_plan_s_words(enjeu_plan):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(spreadsheet.workbook_from_data(open_format.export_plan(enjeu_plan))))
    workbook["Fiches"]["B2"] = 9
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(PlanFormatError) as refused:
        spreadsheet.read_document("coteaux.xlsx", out.getvalue())
    assert (
        "feuille « Fiches », ligne 2, colonne B : enjeu 9 inconnu (absent de la feuille « Enjeux »)."
        in refused.value.errors
    )


def test_val_aigo_still_reads_axe(reader_client, val_aigo):
    page = visible_text(
        reader_client.get(reverse("plan_detail", kwargs={"slug": "val-aigo"})).content.decode()
    )
    assert "Axe 1 :" in page and "Enjeu 1" not in page and "Objectif" not in page
    board = visible_text(
        reader_client.get(reverse("dashboard", kwargs={"slug": "val-aigo"})).content.decode()
    )
    assert "Avancement par axe" in board and "Avancement moyen par axe" in board


def test_the_next_plan_keeps_the_words_and_the_objectives(objectives_plan):
    from reporting.renewal import renew_plan

    objectives_plan.level_gender = "m"
    objectives_plan.save()
    renewal = renew_plan(
        objectives_plan,
        slug="coteaux-2028",
        title="Convention territoriale globale 2028-2032",
        start_year=2028,
        end_year=2032,
        numbers=[3],
        by=UserFactory(),
    )
    new = renewal.plan
    assert (new.level_label, new.level_gender) == ("Enjeu", "m")
    assert list(Objective.objects.filter(axis__plan=new).values_list("code", flat=True)) == ["1.1", "1.2"]
    carried = new.actions.select_related("objective").get()
    assert str(carried.objective) == "Objectif 1.1 : Accompagner les parents"
    assert carried.objective.axis.plan == new


def test_objectives_cost_no_query(enjeu_client, enjeu_plan):
    """The plan page and the fiche page read the objectives with the fiches: as many queries
    with objectives as without."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    urls = [
        reverse("plan_detail", kwargs={"slug": "coteaux"}),
        reverse("action_detail", kwargs={"slug": "coteaux", "number": 2}),
    ]

    def counts():
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert enjeu_client.get(url).status_code == 200
            found.append(len(queries))
        return found

    enjeu_client.get(urls[0])  # the session and the user, cached from here
    without = counts()
    axis = enjeu_plan.axes.get(number=1)
    objective = Objective.objects.create(axis=axis, position=1, code="1.1", title="Accompagner les parents")
    enjeu_plan.actions.update(objective=objective)
    assert counts() == without
