"""Every role × every page and write × own organisation, other organisation, other plan.

Forbidden reads get 404, forbidden writes 403 (404 where the plan itself is hidden), and the
database is unchanged after each refused write. The expected outcome is written here from the
README's table, independently of the application's querysets.
"""

import functools
from dataclasses import dataclass

import pytest
from django.db import connection, transaction
from django.urls import reverse

from actions.models import Action, ActionPartner, CalendarEntry, Condition, Note, Step
from axes.models import Role
from partners.models import Organisation
from tests.factories import (
    ActionFactory,
    CalendarEntryFactory,
    ConditionFactory,
    PartnerFactory,
    UserFactory,
    grant,
)

ROLES = ["admin", "coordinator", "contributor", "reader", "caf", "outsider"]


@dataclass
class World:
    own: Action  # piloted by the contributeur's commune (Villemur-sur-Tarn)
    other: Action  # piloted by the CCVA; has a step tied to Villemur
    foreign: Action  # a fiche of another territory's plan
    own_step: Step  # tied to Villemur, on `other`
    other_step: Step  # not tied to any commune, on `other`


@pytest.fixture
def world(val_aigo):
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    own = val_aigo.actions.get(number=12)
    other = val_aigo.actions.get(number=1)
    own_step = Step.objects.create(action=other, position=9, text="Étape de Villemur", commune=villemur)
    foreign = ActionFactory(title="Fiche d'un autre territoire")
    for action in (own, other, foreign):
        CalendarEntryFactory(action=action, label="2026")
        ConditionFactory(action=action)
        PartnerFactory(action=action, name="Partenaire", organisation=None)
        Step.objects.get_or_create(action=action, position=50, defaults={"text": "Étape sans commune"})
    return World(own, other, foreign, own_step, other.steps.get(position=50))


def make_user(role, val_aigo):
    user = UserFactory(username=role)
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    caf = Organisation.objects.get(short_name="CAF", kind="caf")
    if role == "admin":
        grant(user, val_aigo, Role.ADMIN)
    elif role == "coordinator":
        grant(user, val_aigo, Role.COORDINATOR)
    elif role == "contributor":
        grant(user, val_aigo, Role.CONTRIBUTOR, villemur)
    elif role == "reader":
        grant(user, val_aigo, Role.READER)
    elif role == "caf":
        user.memberships.create(organisation=caf)
    elif role == "outsider":
        grant(user, ActionFactory().plan, Role.COORDINATOR)  # a coordinator, of another plan
    return user


# The README's table, per role: (reads plan, edits every fiche, contributor rules apply).
TABLE = {
    "admin": (True, True, False),
    "coordinator": (True, True, False),
    "contributor": (True, False, True),
    "reader": (True, False, False),
    "caf": (True, False, False),
    "outsider": (False, False, False),
}


def expected(role, rule, world, target):
    """True (allowed), or the status code of the refusal."""
    reads, edits_all, contributes = TABLE[role]
    action = target if isinstance(target, Action) else target.action
    if action == world.foreign:
        return 404  # nobody here holds a role on the other territory's plan
    if not reads:
        return 404
    if rule == "read":
        return True
    pilots_it = contributes and action == world.own
    if rule == "fiche":
        allowed = edits_all or pilots_it
    elif rule == "step":
        allowed = edits_all or pilots_it or (contributes and target == world.own_step)
    elif rule == "note":
        allowed = (
            edits_all or pilots_it or (contributes and action == world.other)
        )  # Villemur has a step there
    return True if allowed else 403


def fiche_url(action, name="action_detail", **kwargs):
    return reverse(name, kwargs={"slug": action.plan.slug, "number": action.number, **kwargs})


def item_url(name, item, section=None):
    kwargs = {"pk": item.pk}
    if section:
        kwargs["section"] = section
    return fiche_url(item.action, name, **kwargs)


def operations(world):
    """(name, rule, target, method, url, data) for every page and write of the workspace."""
    ops = []
    for label, action in [("own", world.own), ("other", world.other), ("foreign", world.foreign)]:
        ops += [
            (f"plan page [{label}]", "read", action, "get", action.plan.get_absolute_url(), None),
            (
                f"fiches list [{label}]",
                "read",
                action,
                "get",
                reverse("action_list", args=[action.plan.slug]),
                None,
            ),
            (f"fiche page [{label}]", "read", action, "get", fiche_url(action), None),
            (
                f"status [{label}]",
                "fiche",
                action,
                "post",
                fiche_url(action, "action_status"),
                {"status": "in_progress", "progress": 30, "version": action.version},
            ),
            (
                f"pilotage [{label}]",
                "fiche",
                action,
                "post",
                fiche_url(action, "action_pilots"),
                {"pilotage": "Nouveau pilotage", "version": action.version},
            ),
            (
                f"note [{label}]",
                "note",
                action,
                "post",
                fiche_url(action, "note_create"),
                {"date": "2026-03-12", "text": "Point fait."},
            ),
            (
                f"add step [{label}]",
                "fiche",
                action,
                "post",
                fiche_url(action, "item_create", section="etapes"),
                {"text": "Nouvelle étape"},
            ),
            (
                f"add calendar [{label}]",
                "fiche",
                action,
                "post",
                fiche_url(action, "item_create", section="calendrier"),
                {"label": "Fin 2026"},
            ),
            (
                f"add partner [{label}]",
                "fiche",
                action,
                "post",
                fiche_url(action, "item_create", section="partenaires"),
                {"name": "Nouvel acteur"},
            ),
            (
                f"add condition [{label}]",
                "fiche",
                action,
                "post",
                fiche_url(action, "item_create", section="conditions"),
                {"text": "Nouvelle condition"},
            ),
        ]
        entry = CalendarEntry.objects.filter(action=action).last()
        partner = ActionPartner.objects.filter(action=action).last()
        condition = Condition.objects.filter(action=action).last()
        for section, item, data in [
            ("calendrier", entry, {"label": "2027", "version": entry.version}),
            ("partenaires", partner, {"name": "Autre nom", "version": partner.version}),
            ("conditions", condition, {"text": "Autre texte", "version": condition.version}),
        ]:
            ops += [
                (
                    f"edit {section} [{label}]",
                    "fiche",
                    action,
                    "post",
                    item_url("item_update", item, section),
                    data,
                ),
                (
                    f"delete {section} [{label}]",
                    "fiche",
                    action,
                    "post",
                    item_url("item_delete", item, section),
                    {"version": item.version},
                ),
            ]
    steps = [("own commune", world.own_step), ("no commune", world.other_step)]
    steps += [
        ("own fiche", world.own.steps.get(position=50)),
        ("foreign", world.foreign.steps.get(position=50)),
    ]
    for label, step in steps:
        ops += [
            (
                f"tick step [{label}]",
                "step",
                step,
                "post",
                item_url("step_toggle", step),
                {"done": "1", "version": step.version},
            ),
            (
                f"edit step [{label}]",
                "step",
                step,
                "post",
                item_url("item_update", step, "etapes"),
                {"text": "Reformulée", "commune": step.commune_id or "", "version": step.version},
            ),
            (f"move step [{label}]", "fiche", step, "post", item_url("step_move", step), {"direction": "up"}),
            (
                f"delete step [{label}]",
                "fiche",
                step,
                "post",
                item_url("item_delete", step, "etapes"),
                {"version": step.version},
            ),
        ]
    return ops


@functools.cache
def state_query() -> tuple[str, tuple]:
    """The query of state(), compiled once per process: the ORM's compiling of seven querysets
    cost more than running them, before each of the matrix's 384 cases and after it."""
    lists = [
        Action.objects.order_by("pk").values_list("pk", "status", "progress", "pilotage", "version"),
        Action.pilots.through.objects.order_by("pk").values_list("action_id", "organisation_id"),
        Step.objects.order_by("pk").values_list("pk", "text", "done", "position", "version"),
        CalendarEntry.objects.order_by("pk").values_list("pk", "label", "start", "end", "version"),
        ActionPartner.objects.order_by("pk").values_list("pk", "name", "role", "version"),
        Condition.objects.order_by("pk").values_list("pk", "text", "version"),
        Note.objects.order_by("pk").values_list("pk", "text"),
    ]
    selects, params = [], []
    for queryset in lists:
        sql, query_params = queryset.query.sql_with_params()
        selects.append(f"(SELECT json_agg(r) FROM ({sql}) r)")  # noqa: S608 (Django's own SQL)
        params += query_params
    return "SELECT " + ", ".join(selects), tuple(params)


def state():
    """Everything a write of the workspace could change: the rows of seven lists, read in one
    query (each list as a JSON array, in the queryset's order)."""
    with connection.cursor() as cursor:
        cursor.execute(*state_query())
        return cursor.fetchone()


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, val_aigo, world, role):
    client.force_login(make_user(role, val_aigo))
    failures = []
    before = state()  # every case starts from these rows: each is rolled back
    for name, rule, target, method, url, data in operations(world):
        want = expected(role, rule, world, target)
        with transaction.atomic():
            response = client.post(url, data) if method == "post" else client.get(url)
            after = state()
            transaction.set_rollback(True)
        if want is True:
            ok_status = 200 if method == "get" else 302
            if response.status_code != ok_status:
                failures.append(f"{name}: attendu {ok_status}, obtenu {response.status_code}")
            elif method == "post" and after == before:
                failures.append(f"{name}: autorisé mais rien n'a changé")
        else:
            if response.status_code != want:
                failures.append(f"{name}: attendu {want}, obtenu {response.status_code}")
            if after != before:
                failures.append(f"{name}: refusé mais la base a changé")
    assert not failures, f"{role} :\n" + "\n".join(failures)


def test_caf_reads_every_plan_its_caf_signed_and_only_those(client, val_aigo):
    caf_user = make_user("caf", val_aigo)
    caf = Organisation.objects.get(short_name="CAF", kind="caf")
    signed = ActionFactory().plan
    signed.signatories.add(caf)
    unsigned = ActionFactory().plan
    client.force_login(caf_user)
    assert client.get(signed.get_absolute_url()).status_code == 200
    assert client.get(val_aigo.get_absolute_url()).status_code == 200
    assert client.get(unsigned.get_absolute_url()).status_code == 404
    # Several plans read as a CAF's staff: home is their overview (tests/axes/test_home.py).
    assert client.get(reverse("home")).url == reverse("plans_dashboard")


def test_anonymous_writes_go_to_sign_in_and_change_nothing(client, val_aigo):
    action = val_aigo.actions.get(number=1)
    before = state()
    response = client.post(
        fiche_url(action, "action_status"), {"status": "done", "progress": 100, "version": 1}
    )
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert state() == before


def test_writes_refuse_get(client, val_aigo):
    client.force_login(make_user("coordinator", val_aigo))
    action = val_aigo.actions.get(number=1)
    assert client.get(fiche_url(action, "action_status")).status_code == 405


def test_representing_a_commune_on_one_plan_gives_nothing_on_another(client, val_aigo):
    """A commune's référent on Val'Aïgo, only a lecteur on a plan where that commune also pilots."""
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    other = ActionFactory(title="Fiche pilotée par Villemur ailleurs")
    other.pilots.add(villemur)
    user = grant(UserFactory(), val_aigo, Role.CONTRIBUTOR, villemur)
    grant(user, other.plan, Role.READER)
    assert list(Action.objects.editable_by(user).values_list("pk", flat=True)) == [
        val_aigo.actions.get(number=12).pk
    ]
    client.force_login(user)
    response = client.post(
        fiche_url(other, "action_status"), {"status": "done", "progress": 100, "version": 1}
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.status == "planned"
