"""The open format ctg-plan/1: export, import, round trip, and refusal of bad files."""

import copy
import json

import jsonschema
import pytest
from django.core.management import CommandError, call_command

from actions.models import Action, Step
from actions.plan_io import open_format
from axes.models import Plan
from partners.models import Organisation
from tests.conftest import VAL_AIGO

PUBLIC_SCHEMA = json.loads(open_format.SCHEMA_PATH.read_text(encoding="utf-8"))


def export(slug="val-aigo", tmp_path=None) -> dict:
    """Export through the command, as an administrator would."""
    out = tmp_path / f"{slug}-export.json"
    call_command("export_plan", slug, output=str(out))
    return json.loads(out.read_text(encoding="utf-8"))


def without_timestamp(data: dict) -> dict:
    data = copy.deepcopy(data)
    data.pop("exported_at", None)
    return data


def fixture_data() -> dict:
    return json.loads(VAL_AIGO.read_text(encoding="utf-8"))


def snapshot() -> dict:
    """Everything an import could touch, to prove a refused one changed nothing."""
    return {
        "plans": list(Plan.objects.values_list("slug", "title", "end_year")),
        "actions": list(
            Action.objects.order_by("pk").values_list("pk", "number", "title", "status", "progress")
        ),
        "steps": Step.objects.count(),
        "organisations": Organisation.objects.count(),
    }


def import_file(tmp_path, content, name="plan.json"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    call_command("import_plan", str(path))


def test_export_is_valid_against_the_public_schema(val_aigo, tmp_path):
    data = export(tmp_path=tmp_path)
    jsonschema.Draft202012Validator(
        PUBLIC_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(data)
    assert data["format"] == "ctg-plan/1"
    assert data["exported_at"]
    assert [len(axis["actions"]) for axis in data["axes"]] == [5, 4, 2, 3, 3, 3]
    first = data["axes"][0]["actions"][0]
    assert first["calendar"][0] == {
        "label": "Début 2024",
        "description": "relance de la concertation services-élus",
        "start": "2024-01-01",
        "end": "2024-03-31",
    }
    villemur = data["axes"][3]["actions"][0]["steps"][0]
    assert villemur["commune"] == "Villemur-sur-Tarn" and len(villemur["children"]) == 5


def test_the_shipped_schema_is_the_shared_one():
    shared = VAL_AIGO.parents[2] / "shared" / "plan-export.schema.json"
    if not shared.exists():
        pytest.skip("../shared absent : copie du schéma non vérifiable")
    assert json.loads(shared.read_text(encoding="utf-8")) == PUBLIC_SCHEMA


@pytest.mark.django_db
def test_round_trip_through_an_empty_database(val_aigo, tmp_path):
    Step.objects.filter(action__plan=val_aigo, action__number=4).update(done=True)
    action = val_aigo.actions.get(number=4)
    action.notes.create(date="2025-03-12", text="Réunion des élus tenue.", author_name="M. Dupont")
    indicator = action.indicators.create(name="Familles touchées", unit="familles", baseline=12, target=40)
    indicator.values.create(year=2024, value=18)
    indicator.values.create(year=2025, value="22.5", comment="Après la campagne d'affichage")
    first = export(tmp_path=tmp_path)

    # Empty the plan's tables (flush would TRUNCATE inside the test's transaction).
    Plan.objects.all().delete()
    Organisation.objects.exclude(parent=None).delete()
    Organisation.objects.all().delete()
    assert not Action.objects.exists() and not Step.objects.exists() and not Organisation.objects.exists()
    path = tmp_path / "first.json"
    path.write_text(json.dumps(first, ensure_ascii=False), encoding="utf-8")
    call_command("import_plan", str(path))

    second = export(tmp_path=tmp_path)
    assert without_timestamp(second) == without_timestamp(first)
    assert second["axes"][0]["actions"][3]["indicators"][0]["values"] == [
        {"year": 2024, "value": 18, "comment": None},
        {"year": 2025, "value": 22.5, "comment": "Après la campagne d'affichage"},
    ]


def test_reimport_is_idempotent_and_updates_in_place(val_aigo, tmp_path):
    pks = dict(val_aigo.actions.values_list("number", "pk"))
    data = fixture_data()
    data["axes"][0]["actions"][1]["status"] = "done"
    data["axes"][0]["actions"][1]["progress"] = 100
    data["axes"][0]["actions"][1]["steps"][0]["done"] = True
    import_file(tmp_path, data)
    import_file(tmp_path, data)

    assert Plan.objects.count() == 1
    assert dict(val_aigo.actions.values_list("number", "pk")) == pks
    second = val_aigo.actions.get(number=2)
    assert (second.status, second.progress) == ("done", 100)
    assert second.steps.filter(done=True).count() == 1
    assert Step.objects.filter(action__plan=val_aigo, parent=None).count() == 83 + 4


def test_import_reports_what_it_did(db, tmp_path, capsys):
    call_command("import_plan", str(VAL_AIGO))
    assert "Plan « val-aigo » créé : 6 axes, 20 fiches-actions." in capsys.readouterr().out
    call_command("import_plan", str(VAL_AIGO))
    assert "Plan « val-aigo » mis à jour" in capsys.readouterr().out


def test_fiche_removed_from_the_file_is_archived(val_aigo, tmp_path, capsys):
    data = fixture_data()
    del data["axes"][5]["actions"][2]
    import_file(tmp_path, data)
    assert "Fiches archivées (absentes du fichier ; leurs notes et leur journal sont conservés) : 20." in (
        capsys.readouterr().out
    )
    assert not val_aigo.actions.filter(number=20).exists()
    assert Action.all_objects.get(plan=val_aigo, number=20).archived_at is not None


def test_export_of_unknown_plan_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="Aucun plan « inconnu »"):
        call_command("export_plan", "inconnu", output=str(tmp_path / "x.json"))


def _break(mutate):
    data = fixture_data()
    mutate(data)
    return data


def _set(path, value):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _duplicate_fiche(data):
    data["axes"][1]["actions"][0]["number"] = 3


def _grandchild_step(data):
    data["axes"][3]["actions"][0]["steps"][0]["children"][0]["children"] = [{"text": "trop profond"}]


def _missing_title(data):
    del data["axes"][0]["actions"][0]["fiche_title"]


BAD_FILES = [
    ("not json", b'{"format": "ctg-plan/1", "plan": ', "n'est pas du JSON valide : ligne 1, colonne 34"),
    ("not utf-8", "é".encode("latin-1") * 3, "n'est pas un texte UTF-8"),
    ("json but not an object", b"[1, 2, 3]", "(racine du document) : doit être un objet"),
    ("wrong format", _break(_set(["format"], "ctg-plan/2")), "format : doit valoir « ctg-plan/1 »"),
    (
        "missing field",
        _break(_missing_title),
        "axes[0].actions[0] : le champ « fiche_title » est obligatoire",
    ),
    (
        "unknown status",
        _break(_set(["axes", 0, "actions", 0, "status"], "en_retard")),
        "axes[0].actions[0].status : valeur « en_retard » non reconnue",
    ),
    (
        "progress out of range",
        _break(_set(["axes", 0, "actions", 2, "progress"], 150)),
        "axes[0].actions[2].progress : doit être au plus 100",
    ),
    (
        "wrong type",
        _break(_set(["axes", 1, "actions", 0, "number"], "six")),
        "axes[1].actions[0].number : doit être un nombre entier",
    ),
    (
        "extension field of the wrong type",
        _break(_set(["axes", 0, "actions", 0, "partners", 0, "organisation"], 12)),
        "axes[0].actions[0].partners[0].organisation : doit être un texte ou null",
    ),
    (
        "duplicate fiche number",
        _break(_duplicate_fiche),
        "fiche-action n° 3 en double : axes[0].actions[2], axes[1].actions[0]",
    ),
    (
        "bad slug",
        _break(_set(["plan", "slug"], "Val Aïgo")),
        "plan.slug : l'identifiant ne peut contenir que des minuscules",
    ),
    (
        "bad date",
        _break(_set(["axes", 0, "actions", 0, "calendar", 0, "start"], "2024-02-30")),
        "axes[0].actions[0].calendar[0].start : date « 2024-02-30 » invalide",
    ),
    (
        "calendar end before start",
        _break(
            lambda d: d["axes"][0]["actions"][0]["calendar"][0].update(start="2024-05-01", end="2024-01-01")
        ),
        "axes[0].actions[0].calendar[0] : la fin (2024-01-01) précède le début (2024-05-01)",
    ),
    ("years reversed", _break(_set(["plan", "end_year"], 2020)), "plan.end_year : l'année de fin précède"),
    (
        "text too long",
        _break(_set(["axes", 0, "actions", 0, "title"], "x" * 501)),
        "axes[0].actions[0].title : texte trop long : 501 caractères pour 500 au plus",
    ),
    (
        "bad insee",
        _break(_set(["plan", "communes", 0, "insee"], "3106")),
        "plan.communes[0].insee : code INSEE « 3106 » invalide",
    ),
    (
        "steps nested too deep",
        _break(_grandchild_step),
        "une étape ne peut avoir qu'un niveau de sous-étapes",
    ),
]


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_file_is_refused_and_changes_nothing(val_aigo, tmp_path, content, message):
    Step.objects.filter(action__plan=val_aigo, action__number=1).update(done=True)
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        import_file(tmp_path, content)
    text = str(refused.value)
    assert text.startswith("Import refusé, rien n'a été modifié.")
    assert message in text
    assert snapshot() == before
    assert Step.objects.filter(action__plan=val_aigo, action__number=1, done=False).count() == 0


def test_bad_file_into_an_empty_database_creates_nothing(db, tmp_path):
    with pytest.raises(CommandError):
        import_file(tmp_path, _break(_duplicate_fiche))
    assert not Plan.objects.exists() and not Organisation.objects.exists()


def test_insee_code_held_by_another_organisation_is_refused(val_aigo, tmp_path):
    data = fixture_data()
    data["plan"]["slug"] = "autre-territoire"
    data["plan"]["communes"] = [{"name": "Commune imaginaire", "insee": "31066"}]
    before = snapshot()
    with pytest.raises(CommandError, match="le code INSEE 31066 appartient déjà à « Bessières »"):
        import_file(tmp_path, data)
    assert snapshot() == before


def test_every_error_is_listed_at_once(db):
    data = fixture_data()
    data["axes"][0]["actions"][0]["status"] = "?"
    data["axes"][2]["actions"][1]["progress"] = -1
    with pytest.raises(open_format.PlanFormatError) as refused:
        open_format.import_plan(data)
    assert len(refused.value.errors) == 2
    assert not Plan.objects.exists()


def test_missing_file(db):
    with pytest.raises(CommandError, match="Fichier introuvable : /nulle/part.json"):
        call_command("import_plan", "/nulle/part.json")


def test_export_queries_do_not_grow_with_the_plan(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import build_plan
    from tests.scale import copied_plan

    counts = []
    for size in (20, 200):
        plan = copied_plan(build_plan, size)  # every fiche has a step with a sub-step
        with CaptureQueriesContext(connection) as queries:
            open_format.export_plan(plan)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_reimport_writes_nothing_at_all(val_aigo):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    data = open_format.load(VAL_AIGO.read_bytes())
    with CaptureQueriesContext(connection) as queries:
        open_format.import_plan(data)
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
