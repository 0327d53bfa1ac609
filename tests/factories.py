import copy
import datetime
import itertools

import factory
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from actions.models import Action, ActionPartner, CalendarEntry, Condition, Note, Status, Step
from axes.models import Axis, Finding, FindingKind, Plan, PlanRole, Role
from partners.models import Organisation, OrganisationKind
from tests.snapshot import Snapshot


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"personne{n}")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("motdepasse-de-test")


def grant(user, plan, role=Role.READER, *organisations):
    """Give `user` a role on `plan`, representing `organisations` there."""
    plan_role, _ = PlanRole.objects.update_or_create(plan=plan, user=user, defaults={"role": role})
    plan_role.organisations.add(*organisations)
    return user


_insee_numbers = itertools.count()


def free_insee() -> str:
    """The next code of department "00" no organisation holds. Codes wrap after 1,000, and a
    copied plan (imported_plan, tests/snapshot.py) keeps the codes its communes had when the
    process built it: counting alone would one day give a test one of those."""
    for _ in range(1000):
        code = f"00{next(_insee_numbers) % 1000:03d}"
        if not Organisation.objects.filter(insee=code).exists():
            return code
    raise RuntimeError("every code of department 00 is taken")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = OrganisationKind.ASSOCIATION

    class Params:
        commune = factory.Trait(
            kind=OrganisationKind.COMMUNE,
            name=factory.Sequence(lambda n: f"Commune {n}"),
            # Department "00" does not exist: never the code of a real commune of a plan loaded
            # beside (31066 was once both Bessières in Val'Aïgo and this process's 1,066th).
            insee=factory.LazyFunction(free_insee),
        )


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    slug = factory.Sequence(lambda n: f"plan-{n}")
    title = "Plan d'action de la CTG"
    territory = factory.Sequence(lambda n: f"CC du Territoire {n}")
    start_year = 2023
    end_year = 2027


class AxisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Axis

    plan = factory.SubFactory(PlanFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Orientation {n}")
    theme = "Thème"


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    axis = factory.SubFactory(AxisFactory)
    kind = FindingKind.STRENGTH
    text = factory.Sequence(lambda n: f"Constat {n}")


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    axis = factory.SubFactory(AxisFactory)
    plan = factory.SelfAttribute("axis.plan")
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Action du synoptique {n}")
    fiche_title = factory.Sequence(lambda n: f"Nom de l'action {n}")
    pilotage = "CCVA"
    status = Status.PLANNED

    class Params:
        in_progress = factory.Trait(status=Status.IN_PROGRESS, progress=40)
        done = factory.Trait(status=Status.DONE, progress=100)


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Step

    action = factory.SubFactory(ActionFactory)
    text = factory.Sequence(lambda n: f"Étape {n}")
    position = factory.Sequence(lambda n: n)


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionPartner

    action = factory.SubFactory(ActionFactory)
    name = "CAF"
    organisation = factory.SubFactory(OrganisationFactory)


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition

    action = factory.SubFactory(ActionFactory)
    text = "Temps agent nécessaire"


class CalendarEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarEntry

    action = factory.SubFactory(ActionFactory)
    label = "2025"


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    action = factory.SubFactory(ActionFactory)
    text = "Réunion tenue."
    author_name = "M. Dupont"


HISTORY_COLUMNS = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}


def create_with_history(model, objects: list, *, reason: str | None = None) -> list:
    """`bulk_create`, plus the history row ("+") each object would have had from its own save.

    On PostgreSQL the history rows are copied from the new rows by one INSERT … SELECT:
    django-simple-history's bulk helper builds every one of them in Python first, which was
    more than half the time of making a 2,000-fiche plan."""
    history = model.history.model
    columns = [f.column for f in history._meta.concrete_fields if f.column not in HISTORY_COLUMNS]
    mirrored = set(columns) <= {f.column for f in model._meta.concrete_fields}
    if connection.vendor != "postgresql" or not mirrored:
        return bulk_create_with_history(objects, model, default_change_reason=reason)
    objects = model.objects.bulk_create(objects)
    qn = connection.ops.quote_name
    names, pk = ", ".join(map(qn, columns)), qn(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(history._meta.db_table)} ({names}, history_date, history_change_reason,"  # noqa: S608
            f" history_type, history_user_id) SELECT {names}, %s, %s, '+', NULL"
            f" FROM {qn(model._meta.db_table)} WHERE {pk} = ANY(%s) ORDER BY {pk}",
            [timezone.now(), reason, [obj.pk for obj in objects]],
        )
    return objects


def build_plan(n_actions: int, *, n_axes: int = 6) -> Plan:
    """A plan of `n_actions` full fiches (steps with children, partners, calendar, notes).

    Each fiche: a pilot commune, a step of that commune with a sub-step, a step done, a partner
    organisation, a condition, a calendar entry (early 2024) and a note; every axis a strength
    and a watch point. Rows are written table by table (`create_with_history`), as the
    factories would have written them one by one."""
    plan = PlanFactory()
    communes = OrganisationFactory.create_batch(3, commune=True)
    plan.communes.set(communes)
    axes = [AxisFactory(plan=plan, number=i + 1) for i in range(n_axes)]
    for axis in axes:
        FindingFactory(axis=axis, kind=FindingKind.STRENGTH)
        FindingFactory(axis=axis, kind=FindingKind.WATCH_POINT)
    numbers = range(1, n_actions + 1)
    actions = create_with_history(
        Action, [ActionFactory.build(axis=axes[number % n_axes], number=number) for number in numbers]
    )
    Action.pilots.through.objects.bulk_create(
        [Action.pilots.through(action=a, organisation=communes[a.number % 3]) for a in actions]
    )
    tops, children = [], []
    for action in actions:
        commune = communes[action.number % 3]
        parent = StepFactory.build(action=action, commune=commune)
        children.append(StepFactory.build(action=action, parent=parent, commune=commune))
        tops += [parent, StepFactory.build(action=action, done=True)]
    create_with_history(Step, tops)
    create_with_history(Step, children)  # bulk_create reads each parent's new primary key
    organisations = Organisation.objects.bulk_create([OrganisationFactory.build() for _ in actions])
    create_with_history(
        ActionPartner,
        [
            PartnerFactory.build(action=a, organisation=o, role="Service communication")
            for a, o in zip(actions, organisations, strict=True)
        ],
    )
    create_with_history(Condition, [ConditionFactory.build(action=a) for a in actions])
    create_with_history(
        CalendarEntry,
        [
            CalendarEntryFactory.build(
                action=a, label="Début 2024", start=datetime.date(2024, 1, 1), end=datetime.date(2024, 3, 31)
            )
            for a in actions
        ],
    )
    create_with_history(Note, [NoteFactory.build(action=a) for a in actions])
    return plan


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "reporting.Meeting"

    plan = factory.SubFactory(PlanFactory)
    instance = "copil"
    date = datetime.date(2026, 6, 16)


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "reporting.Decision"
        skip_postgeneration_save = True

    meeting = factory.SubFactory(MeetingFactory)
    text = factory.Sequence(lambda n: f"Décision {n}")
    status = "to_take"

    @factory.post_generation
    def actions(self, create, extracted, **kwargs):
        if create and extracted:
            self.actions.set(extracted)


# --- Indicators and plans as an import sees them (actions side, issue 8) ---------------------


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "actions.Indicator"

    action = factory.SubFactory(ActionFactory)
    name = factory.Sequence(lambda n: f"Indicateur {n}")
    unit = "familles"
    baseline = 10
    target = 30


class IndicatorValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "actions.IndicatorValue"

    indicator = factory.SubFactory(IndicatorFactory)
    year = 2024
    value = 12


def _imported_plan(n_actions: int) -> tuple[Plan, dict]:
    import json

    from actions.plan_io import open_format

    plan = build_plan(n_actions, n_axes=2)
    for action in plan.actions.all():
        IndicatorValueFactory(indicator=IndicatorFactory(action=action))
    data = json.loads(json.dumps(open_format.export_plan(plan)))
    plan.delete()
    return open_format.import_plan(data).plan, data


_imported_plans: dict[int, Snapshot] = {}  # by number of fiches


def imported_plan(n_actions: int = 3) -> tuple[Plan, dict]:
    """A small plan of full fiches as its first import leaves it (the silent baseline), and the
    ctg-plan/1 document it came from, to edit and import again.

    Built, exported, deleted and imported (0.6 s and more) once per test process and number of
    fiches; later tests get a copy of the rows that wrote (tests/snapshot.py) and of the
    document, unless the test already holds plans or organisations."""
    if n_actions not in _imported_plans:
        _imported_plans[n_actions] = Snapshot(
            lambda: _imported_plan(n_actions),
            key=lambda built: (built[0].pk, built[1]),
            find=lambda found: (Plan.objects.get(pk=found[0]), copy.deepcopy(found[1])),
        )
    return _imported_plans[n_actions]()


class FinancingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "actions.Financing"

    action = factory.SubFactory(ActionFactory)
    funder = "CAF de la Haute-Garonne"
    scheme = "Bonus territoire CTG"
    year = 2025
    planned = 10000
    granted = None
    spent = None


def seeded_tags():
    """The installation's starting lists of themes and publics, as migration 0014 writes them
    (a transactional test elsewhere in the run may have flushed them)."""
    import importlib

    from actions.models import Audience, Theme

    seed = importlib.import_module("actions.migrations.0014_seed_themes_audiences")
    for model, rows in [(Theme, seed.THEMES), (Audience, seed.AUDIENCES)]:
        # One upsert a list (after every transactional test: two queries instead of fifty).
        model.objects.bulk_create(
            [model(slug=slug, name=name, position=position) for position, (slug, name) in enumerate(rows, 1)],
            update_conflicts=True,
            unique_fields=["slug"],
            update_fields=["name", "position"],
        )


def theme(name: str, slug: str | None = None):
    """A theme of the installation's list (the seeded ones are flushed by transactional tests)."""
    from django.utils.text import slugify

    from actions.models import Theme

    return Theme.objects.get_or_create(slug=slug or slugify(name), defaults={"name": name})[0]


def audience(name: str, slug: str | None = None):
    from django.utils.text import slugify

    from actions.models import Audience

    return Audience.objects.get_or_create(slug=slug or slugify(name), defaults={"name": name})[0]
