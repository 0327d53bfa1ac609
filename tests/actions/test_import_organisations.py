"""Organisations as the plan declares them: kept and exported even when no fiche names them,
shown on the plan page, their kinds (MSA, CPAM, Région…) kept, corrected only by an
installation administrator's import."""

import io

from django.urls import reverse
from openpyxl import load_workbook

from actions.plan_io import open_format, spreadsheet
from axes.models import Role
from partners.models import Organisation, OrganisationKind
from tests.factories import OrganisationFactory, UserFactory, grant, imported_plan

PLAN_LEVEL = [
    ("MSA Midi-Pyrénées Nord", "MSA", "msa"),
    ("CPAM de la Haute-Garonne", "CPAM", "cpam"),
    ("Région Occitanie", "Région", "region"),
    ("Conseil départemental de la Haute-Garonne", "Département", "departement"),
    ("DSDEN de la Haute-Garonne", "Éducation nationale", "education"),
]


def with_plan_level_partners(plan) -> bytes:
    workbook = load_workbook(io.BytesIO(spreadsheet.workbook_from_data(open_format.export_plan(plan))))
    for name, kind, _ in PLAN_LEVEL:
        workbook["Organisations"].append([name, None, kind, None, None])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_declared_organisations_are_kept_exported_and_shown(client, db):
    plan, _ = imported_plan()
    data = spreadsheet.read_document("plan.xlsx", with_plan_level_partners(plan))
    report = open_format.import_plan(data, filename="plan.xlsx")
    assert sorted(report.new_organisations) == sorted(name for name, _, _ in PLAN_LEVEL)
    kinds = dict(
        Organisation.objects.filter(name__in=[n for n, _, _ in PLAN_LEVEL]).values_list("name", "kind")
    )
    assert kinds == {name: kind for name, _, kind in PLAN_LEVEL}

    exported = {o["name"]: o["kind"] for o in open_format.export_plan(plan)["plan"]["organisations"]}
    assert all(exported[name] == kind for name, _, kind in PLAN_LEVEL)
    assert open_format.preview(open_format.export_plan(plan)).nothing_to_do

    client.force_login(grant(UserFactory(), plan, Role.READER))
    page = client.get(reverse("plan_detail", args=[plan.slug])).content.decode()
    assert "Organisations du plan" in page
    assert 'MSA Midi-Pyrénées Nord <span class="muted">— MSA</span>' in page
    assert 'Région Occitanie <span class="muted">— Région</span>' in page


def test_dropping_a_declared_organisation_from_the_file_says_so(db):
    plan, _ = imported_plan()
    open_format.import_plan(spreadsheet.read_document("plan.xlsx", with_plan_level_partners(plan)))
    data = open_format.export_plan(plan)
    data["plan"]["organisations"] = [
        o for o in data["plan"]["organisations"] if o["name"] != "Région Occitanie"
    ]
    assert open_format.preview(data).extra == ["Organisations retirées du plan (1) : Région Occitanie."]
    open_format.import_plan(data)
    assert not plan.partners.filter(name="Région Occitanie").exists()
    assert Organisation.objects.filter(name="Région Occitanie").exists()  # shared: kept in the installation


def _with_kind(plan, name, kind):
    data = open_format.export_plan(plan)
    data["plan"]["organisations"].append(
        {"name": name, "short_name": None, "kind": kind, "insee": None, "parent": None}
    )
    return data


def test_only_an_installation_administrator_corrects_a_kind(db):
    plan, _ = imported_plan()
    OrganisationFactory(name="MSA Midi-Pyrénées Nord", kind=OrganisationKind.OTHER)
    data = _with_kind(plan, "MSA Midi-Pyrénées Nord", "msa")
    coordinator = grant(UserFactory(), plan, Role.COORDINATOR)

    said = open_format.preview(data, by=coordinator).extra
    assert (
        "« MSA Midi-Pyrénées Nord » reste « Autre » (le fichier dit « MSA ») : seul un administrateur "
        "de l'installation corrige une organisation déjà enregistrée."
    ) in said
    report = open_format.import_plan(data, by=coordinator, filename="plan.json")
    assert Organisation.objects.get(name="MSA Midi-Pyrénées Nord").kind == "other"
    assert "reste « Autre »" in report.summary()

    administrator = UserFactory(is_superuser=True)
    preview = open_format.preview(data, by=administrator)
    assert "Type de « MSA Midi-Pyrénées Nord » corrigé : Autre → MSA." in preview.extra
    assert not preview.nothing_to_do
    report = open_format.import_plan(data, by=administrator, filename="plan.json")
    assert Organisation.objects.get(name="MSA Midi-Pyrénées Nord").kind == "msa"
    assert "Type de « MSA Midi-Pyrénées Nord » corrigé : Autre → MSA." in report.summary()


def test_an_undeclared_caf_signatory_is_a_caf(db):
    plan, _ = imported_plan()
    data = open_format.export_plan(plan)
    data["plan"]["signatories"] = ["CAF de la Haute-Garonne", "Mairie de Castelfort"]
    open_format.import_plan(data)
    assert Organisation.objects.get(name="CAF de la Haute-Garonne").kind == "caf"
    assert Organisation.objects.get(name="Mairie de Castelfort").kind == "other"  # names that do not say
