"""One reader per sheet of the template, each row validated by a Django form.

A reader knows its sheet's columns (its form's fields, in the template's order: the header is
the field's label, `required` the star), cleans each row with its form, reports every field's
error at its cell, and adds what is valid to the ctg-plan/1 document being built, remembering
which cell each value came from. Nothing stops at the first error: every row of every sheet is
read, and a row whose cell is wrong still counts for the rows that refer to it.

No knock-on errors: a fiche whose number cannot be read is reported once, on its row of
"Fiches"; the steps, partners… that name that same number are then left aside silently, and the
same for an axis. A fiche on an unknown axis is kept aside (validated, not imported), so that its
steps do not each report an unknown fiche.

To add a column: add a field to the sheet's form (its label is the header) and read it in
`add`. To add a sheet: a new reader in READERS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django import forms
from openpyxl.utils import get_column_letter

from actions.amounts import euros
from actions.models import LARGEST_AMOUNT, NoteKind, Status
from actions.plan_io.cells import (
    ChoiceCell,
    DateCell,
    DayMonthOrYearCell,
    IntegerCell,
    ListCell,
    NumberCell,
    PercentCell,
    TextCell,
    Vocabulary,
    YearCell,
    YesNoCell,
    fold,
    text_of,
)
from actions.plan_io.errors import CellError
from axes.levels import LevelWords
from partners.models import OrganisationKind

FORMAT = "ctg-plan/1"

STATUSES = Vocabulary(
    {s.value: s.label for s in Status},
    {
        Status.PLANNED: (
            "à venir",
            "prévue",
            "prévu",
            "planifiée",
            "à faire",
            "à lancer",
            "pas commencée",
            "non commencée",
            "non démarrée",
            "pas démarrée",
            "à engager",
            "en projet",
        ),
        Status.IN_PROGRESS: (
            "en cours",
            "commencée",
            "démarrée",
            "lancée",
            "engagée",
            "en cours de réalisation",
            "en cours de mise en oeuvre",
            "en cours de mise en œuvre",
            "initiée",
        ),
        Status.DONE: ("réalisée", "terminée", "achevée", "faite", "finie", "close", "clôturée", "accomplie"),
        Status.ON_HOLD: (
            "en pause",
            "suspendue",
            "en attente",
            "reportée",
            "gelée",
            "en suspens",
            "différée",
        ),
        Status.ABANDONED: ("abandonnée", "annulée", "arrêtée", "supprimée", "non retenue", "abandon"),
    },
)
KINDS = Vocabulary(
    {k.value: k.label for k in OrganisationKind},
    {
        OrganisationKind.EPCI: (
            "communauté de communes",
            "cc",
            "communauté d'agglomération",
            "ca",
            "communauté urbaine",
            "cu",
            "métropole",
            "intercommunalité",
            "interco",
            "syndicat intercommunal",
            "pays",
            "pôle d'équilibre territorial et rural",
            "petr",
        ),
        OrganisationKind.COMMUNE: ("mairie", "ville", "municipalité", "commune nouvelle", "ccas", "cias"),
        OrganisationKind.CAF: ("caisse d'allocations familiales", "caisse d'allocation familiale"),
        OrganisationKind.DEPARTEMENT: (
            "conseil départemental",
            "conseil général",
            "cd",
            "département",
            "collectivité européenne d'alsace",
        ),
        OrganisationKind.REGION: ("conseil régional", "région"),
        OrganisationKind.ETAT: (
            "état",
            "préfecture",
            "sous-préfecture",
            "services de l'état",
            "ddets",
            "ddets-pp",
            "sgar",
            "ars",
            "agence régionale de santé",
            "dreets",
            "sdjes",
        ),
        OrganisationKind.EDUCATION: (
            "éducation nationale",
            "en",
            "académie",
            "rectorat",
            "dsden",
            "inspection académique",
            "ien",
            "circonscription",
        ),
        OrganisationKind.MSA: ("mutualité sociale agricole",),
        OrganisationKind.CPAM: ("caisse primaire d'assurance maladie", "assurance maladie", "ameli"),
        OrganisationKind.ASSOCIATION: (
            "asso",
            "associatif",
            "association loi 1901",
            "fédération",
            "centre social",
        ),
        OrganisationKind.OTHER: ("other", "divers", "entreprise", "bailleur", "autre organisme"),
    },
)
NOTE_KINDS = Vocabulary(
    {k.value: k.label for k in NoteKind},
    {
        NoteKind.FOLLOW_UP: ("suivi", "point d'étape", "information", "commentaire"),
        NoteKind.ACHIEVEMENT: ("réalisation", "réussite", "fait marquant"),
        NoteKind.DIFFICULTY: ("difficulté", "problème", "frein", "blocage", "alerte"),
        NoteKind.OUTLOOK: ("perspective", "suite", "à venir", "prochaine étape"),
    },
)
# The grammatical gender of the plan's first level, when its name does not say it.
GENDERS = Vocabulary({"m": "masculin", "f": "féminin"}, {"m": ("masc",), "f": ("fém", "feminin")})
FINDINGS = Vocabulary(
    {"strengths": "Force", "watch_points": "Point de vigilance"},
    {
        "strengths": ("atout", "point fort", "ressource", "point d'appui"),
        "watch_points": ("vigilance", "faiblesse", "point faible", "fragilité", "enjeu", "besoin"),
    },
)


@dataclass(frozen=True)
class Location:
    sheet: str
    row: int | None = None
    column: str | None = None


@dataclass
class Row:
    sheet: str
    number: int
    letters: dict[str, str]
    raw: dict[str, Any]
    bad: set[str]  # the fields whose cell was refused
    orphan: bool = False  # names an axis or fiche whose own number was refused

    def at(self, key: str | None = None) -> Location:
        return Location(self.sheet, self.number, self.letters.get(key) if key else None)


@dataclass
class Reading:
    """The document being built from a workbook, and what went wrong, located."""

    data: dict[str, Any] = field(default_factory=lambda: {"format": FORMAT, "plan": {}, "axes": []})
    origins: dict[str, Location] = field(default_factory=dict)  # JSON path → where it came from
    errors: list[CellError] = field(default_factory=list)
    flagged: set[Location] = field(default_factory=set)  # cells and rows already in error
    axes: dict[int, dict] = field(default_factory=dict)
    fiches: dict[int, dict] = field(default_factory=dict)
    aside: list[dict] = field(default_factory=list)  # fiches of an unknown axis: checked, not kept
    unreadable: dict[str, set[str]] = field(default_factory=lambda: {"axis": set(), "fiche": set()})
    rows: int = 0
    axes_sheet: str = "Axes"  # the name the first level's sheet bears in this workbook ("Enjeux")
    axes_missing: bool = False  # no such sheet: the rows naming an axis do not each say so

    @property
    def level(self) -> LevelWords:
        """The plan's words for its first level, read from the Plan sheet ("Enjeu")."""
        plan = self.data["plan"]
        return LevelWords.of(
            plan.get("level_label") or "Axe", plan.get("level_plural") or "", plan.get("level_gender") or ""
        )

    def unknown_axis(self, number, where: Location) -> None:
        """ "enjeu 9 inconnu (absent de la feuille « Enjeux »).", unless that sheet is missing
        altogether: said once, not on every row that names an axis."""
        if self.axes_missing:
            return
        level = self.level
        self.error(
            f"{level.lower} {number} {level.agree('inconnu', 'inconnue')} "
            f"({level.agree('absent', 'absente')} de la feuille « {self.axes_sheet} »).",
            where,
        )

    def known(self, kind: str) -> set[str]:
        """The axis or fiche numbers read so far, as text."""
        return {str(n) for n in (self.axes if kind == "axis" else self.fiches)}

    def error(self, message: str, where: Location | None = None) -> None:
        if where is None:
            self.errors.append(CellError(message))
            return
        self.errors.append(CellError(message, where.sheet, where.row, where.column))
        self.flagged.add(where)
        self.flagged.add(Location(where.sheet, where.row))

    def where(self, path: str) -> Location | None:
        """The cell a JSON path came from: the longest known prefix of the path."""
        while path:
            if path in self.origins:
                return self.origins[path]
            shorter = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", path)
            if shorter == path:  # "(racine du document)", "plan": nothing shorter to try
                return None
            path = shorter
        return None


ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}


def mark_unreadable(reading: Reading, kind: str, value) -> None:
    """Remember an axis or fiche number that could not be read, and the number it most likely
    meant ("1bis", "Fiche 3", "III"), so that the rows naming it do not each report it."""
    text = fold(text_of(value))
    if not text:
        return
    reading.unreadable[kind].add(text)
    digits = re.findall(r"\d+", text)
    words = [w for w in text.split() if w not in ("axe", "fiche", "action", "enjeu", "n", "no", "num")]
    if len(digits) == 1:
        reading.unreadable[kind].add(digits[0])
    elif len(words) == 1 and words[0] in ROMAN:
        reading.unreadable[kind].add(str(ROMAN[words[0]]))


def _header(text) -> str:
    return fold(text_of(text).rstrip(" *"))


def find_sheet(names: list[str], title: str, aliases: tuple[str, ...] = ()) -> str | None:
    """The workbook's sheet for `title`: its name, accents, case and plural aside, or an alias."""
    wanted = {fold(title), *(fold(a) for a in aliases)}
    return next((name for name in names if fold(name) in wanted), None)


class SheetReader:
    title: ClassVar[str]
    form: ClassVar[type[forms.Form]]
    aliases: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[bool] = True
    references: ClassVar[dict[str, str]] = {}  # field → "axis" or "fiche" it names
    keeps_orphans: ClassVar[bool] = False  # rows naming an unreadable axis/fiche: add them anyway

    @classmethod
    def columns(cls) -> list[tuple[str, str, bool]]:
        """(header, key, required) in the template's order."""
        return [(f.label, key, f.required) for key, f in cls.form.base_fields.items()]

    def own_names(self, reading: Reading) -> tuple[str, ...]:
        """Other names the sheet may bear in this plan's words (the first level's: "Enjeux")."""
        return ()

    def read(self, book, reading: Reading) -> None:
        name = find_sheet(book.sheetnames, self.title, self.aliases + self.own_names(reading))
        if name is None:
            if not self.optional:
                reading.error(f"Feuille « {(self.own_names(reading) or (self.title,))[0]} » manquante.")
            return
        rows = iter(book.sheets[name])
        headers = {_header(h): i for i, h in enumerate(next(rows, []) or []) if text_of(h)}
        positions, missing = {}, []
        for header, key, required in self.columns():
            # A column naming an axis may bear the plan's word for it ("Enjeu").
            names = [header, reading.level.singular] if self.references.get(key) == "axis" else [header]
            found = [headers[_header(n)] for n in names if _header(n) in headers]
            if found:
                positions[key] = found[0]
            elif required:
                missing.append(names[-1])
        if missing:
            reading.error(f"Feuille « {self.title} » : colonne(s) manquante(s) : {', '.join(missing)}.")
            return
        letters = {key: get_column_letter(i + 1) for key, i in positions.items()}
        for number, values in enumerate(rows, start=2):
            if not values or all(text_of(v) == "" for v in values):
                continue
            reading.rows += 1
            raw = {key: (values[i] if i < len(values) else None) for key, i in positions.items()}
            row = Row(name if self.own_names(reading) else self.title, number, letters, raw, set())
            # A reference to an axis or fiche whose own number was refused: reported there.
            orphan = row.orphan = any(
                fold(text_of(raw.get(key))) in reading.unreadable[kind]
                and text_of(raw.get(key)) not in reading.known(kind)
                for key, kind in self.references.items()
                if text_of(raw.get(key))
            )
            form = self.form(data=raw)
            form.is_valid()
            for key, messages in form.errors.items():
                if orphan and key in self.references:
                    continue
                for message in messages:
                    reading.error(message, row.at(key if key in letters else None))
                row.bad.add(key)
            if orphan and not self.keeps_orphans:
                continue
            cleaned = {key: form.cleaned_data.get(key) for key in form.base_fields}
            self.add(reading, row, cleaned)

    def add(self, reading: Reading, row: Row, cleaned: dict[str, Any]) -> None:
        raise NotImplementedError

    # Helpers for the sheets whose rows belong to a fiche.
    def fiche_of(self, reading: Reading, row: Row, number: int | None) -> dict | None:
        if number is None:
            return None
        fiche = reading.fiches.get(number)
        if fiche is None:
            reading.error(f"fiche n° {number} inconnue (absente de la feuille « Fiches »).", row.at("fiche"))
        return fiche

    def remember(self, reading: Reading, path: str, row: Row, keys=()) -> None:
        reading.origins[path] = row.at()
        for key in keys:
            reading.origins[f"{path}.{key}"] = row.at(key)


# --- Plan: two columns, field / value ----------------------------------------------------


class PlanForm(forms.Form):
    slug = TextCell("Identifiant", required=True)
    title = TextCell("Titre", required=True)
    territory = TextCell("Territoire", required=True)
    start_year = YearCell("Année de début", required=True)
    end_year = YearCell("Année de fin", required=True)
    level_label = TextCell("Nom du premier niveau")
    # When the name does not say them ("Champ" → "Champs d'action"); most plans leave them empty.
    level_plural = TextCell("Pluriel du premier niveau")
    level_gender = ChoiceCell("Genre du premier niveau", GENDERS)
    signatories = ListCell("Signataires", default=[])


class PlanReader(SheetReader):
    title = "Plan"
    form = PlanForm
    optional = False

    def read(self, book, reading: Reading) -> None:
        name = find_sheet(book.sheetnames, self.title, self.aliases)
        if name is None:
            reading.error("Feuille « Plan » manquante.")
            return
        by_label = {_header(label): key for label, key, _ in self.columns()}
        raw, lines = {}, {}
        for number, values in enumerate(book.sheets[name][1:], start=2):
            key = by_label.get(_header(values[0])) if values else None
            if key and key not in raw:
                raw[key], lines[key] = (values[1] if len(values) > 1 else None), number
        form = self.form(data=raw)
        form.is_valid()
        plan = reading.data["plan"]
        for label, key, required in self.columns():
            where = Location("Plan", lines[key], "B") if key in lines else Location("Plan")
            reading.origins[f"plan.{key}"] = where
            if key not in lines and required:
                reading.error(f"ligne « {label} » manquante.", where)
                continue
            for message in form.errors.get(key, []):
                reading.error(message, where)
            value = form.cleaned_data.get(key)
            if value is not None:
                plan[key] = value
            elif key in form.errors:
                plan[key] = None  # refused: the schema's word about it is dropped


# --- Communes and organisations ------------------------------------------------------------


class CommuneForm(forms.Form):
    name = TextCell("Nom", required=True)
    insee = TextCell("Code INSEE")


class CommunesReader(SheetReader):
    title = "Communes"
    form = CommuneForm

    def add(self, reading, row, cleaned):
        communes = reading.data["plan"].setdefault("communes", [])
        insee = cleaned["insee"]
        self.remember(reading, f"plan.communes[{len(communes)}]", row, ("name", "insee"))
        communes.append({"name": cleaned["name"], "insee": insee.zfill(5) if insee else None})


class OrganisationForm(forms.Form):
    name = TextCell("Nom", required=True)
    short_name = TextCell("Sigle")
    kind = ChoiceCell("Type", KINDS, required=True)
    insee = TextCell("Code INSEE")
    parent = TextCell("Rattachée à")


class OrganisationsReader(SheetReader):
    title = "Organisations"
    form = OrganisationForm

    def add(self, reading, row, cleaned):
        organisations = reading.data["plan"].setdefault("organisations", [])
        name = cleaned["name"]
        if name and any(org["name"] == name for org in organisations):
            reading.error(f"l'organisation « {name} » apparaît deux fois.", row.at("name"))
            return
        path = f"plan.organisations[{len(organisations)}]"
        self.remember(reading, path, row, ("name", "short_name", "kind", "insee", "parent"))
        insee = cleaned["insee"]
        organisations.append(
            {
                "name": name,
                "short_name": cleaned["short_name"],
                "kind": cleaned["kind"] or OrganisationKind.OTHER.value,
                "insee": insee.zfill(5) if insee else None,
                "parent": cleaned["parent"],
            }
        )


# --- Axes and their diagnosis ------------------------------------------------------------------


class AxisForm(forms.Form):
    number = IntegerCell("Numéro", required=True)
    title = TextCell("Intitulé", required=True)
    theme = TextCell("Thème du diagnostic", default="")


class AxesReader(SheetReader):
    title = "Axes"
    form = AxisForm
    optional = False

    def own_names(self, reading):
        plural = reading.level.plural
        return (plural,) if fold(plural) != fold(self.title) else ()

    def read(self, book, reading):
        name = find_sheet(book.sheetnames, self.title, self.own_names(reading))
        if name is None:
            reading.axes_missing = True
            level, names = reading.level, (*self.own_names(reading), self.title)
            reading.error(
                f"Feuille « {names[0]} » manquante : la feuille des {level.lower_plural} s'appelle "
                + " ou ".join(f"« {n} »" for n in names)
                + f" (feuilles de ce classeur : {', '.join(book.sheetnames)})."
            )
            return
        reading.axes_sheet = name
        super().read(book, reading)

    def add(self, reading, row, cleaned):
        number = cleaned["number"]
        if number is None:
            if "number" in row.bad:
                mark_unreadable(reading, "axis", row.raw["number"])
            return
        if number in reading.axes:
            reading.error(f"{reading.level.the} {number} apparaît deux fois.", row.at("number"))
            return
        path = f"axes[{len(reading.axes)}]"
        self.remember(reading, path, row, ("number", "title"))
        reading.origins[f"{path}.diagnostic.theme"] = row.at("theme")
        reading.axes[number] = {
            "number": number,
            "title": cleaned["title"],
            "diagnostic": {"theme": cleaned["theme"], "strengths": [], "watch_points": []},
            "actions": [],
            "_path": path,
        }


class FindingForm(forms.Form):
    axis = IntegerCell("Axe", required=True)
    kind = ChoiceCell("Nature", FINDINGS, required=True)
    text = TextCell("Constat", required=True)


class DiagnosticReader(SheetReader):
    title = "Diagnostic"
    form = FindingForm
    references = {"axis": "axis"}

    def add(self, reading, row, cleaned):
        number, kind = cleaned["axis"], cleaned["kind"]
        if number is None:
            return
        axis = reading.axes.get(number)
        if axis is None:
            reading.unknown_axis(number, row.at("axis"))
            return
        if kind:
            findings = axis["diagnostic"][kind]
            reading.origins[f"{axis['_path']}.diagnostic.{kind}[{len(findings)}]"] = row.at("text")
            findings.append(cleaned["text"])


class ObjectiveForm(forms.Form):
    axis = IntegerCell("Axe", required=True)
    code = TextCell("Numéro")
    title = TextCell("Intitulé", required=True)


class ObjectivesReader(SheetReader):
    """The optional level between axis and fiche, in the plan's order, fiches or not; a fiche's
    Objectif cell names one of them (or a new one, added after them)."""

    title = "Objectifs"
    form = ObjectiveForm
    aliases = ("Objectif", "Objectifs opérationnels", "Objectifs stratégiques")
    references = {"axis": "axis"}

    def add(self, reading, row, cleaned):
        number = cleaned["axis"]
        if number is None or not cleaned["title"]:
            return
        axis = reading.axes.get(number)
        if axis is None:
            reading.unknown_axis(number, row.at("axis"))
            return
        listed = axis.setdefault("objectives", [])
        self.remember(reading, f"{axis['_path']}.objectives[{len(listed)}]", row, ("code", "title"))
        listed.append({"code": cleaned["code"] or None, "title": cleaned["title"]})


# --- Fiches and what they hold ----------------------------------------------------------------


class FicheForm(forms.Form):
    number = IntegerCell("Numéro", required=True)
    axis = IntegerCell("Axe", required=True)
    title = TextCell("Intitulé (synoptique)", required=True)
    fiche_title = TextCell("Nom de l'action (fiche)", required=True)
    pilotage = TextCell("Pilotage", default="")
    pilots = ListCell("Pilotes", default=[])
    status = ChoiceCell("Statut", STATUSES, default=Status.PLANNED.value)
    progress = PercentCell("Avancement (%)", default=0)
    themes = ListCell("Thématiques", default=[])
    audiences = ListCell("Publics visés", default=[])
    # Optional column: the objective between axis and fiche, "1.2 : Accompagner les parents".
    objective = TextCell("Objectif", default="")


FICHE_KEYS = (
    "number",
    "title",
    "fiche_title",
    "pilotage",
    "pilots",
    "status",
    "progress",
    "themes",
    "audiences",
    "objective",
)
# An objective written "1.2 : Accompagner les parents" or "OS 3 : …": its number, then its title.
OBJECTIVE_CODE = re.compile(r"^([A-Za-z]{0,3} ?\d+(?:[.\-]\d+)*[a-z]?) : (.+)$", re.S)


class FichesReader(SheetReader):
    title = "Fiches"
    form = FicheForm
    optional = False
    references = {"axis": "axis"}
    keeps_orphans = True  # kept aside: its steps, partners… still find it

    def add(self, reading, row, cleaned):
        number, axis_number = cleaned["number"], cleaned["axis"]
        if number is None:
            if "number" in row.bad:
                mark_unreadable(reading, "fiche", row.raw["number"])
            return
        if number in reading.fiches:
            reading.error(
                f"la fiche n° {number} apparaît deux fois dans la feuille « Fiches ».", row.at("number")
            )
            return
        axis = None if row.orphan else reading.axes.get(axis_number)
        if axis is None:
            if axis_number is not None and not row.orphan:
                reading.unknown_axis(axis_number, row.at("axis"))
            owner, index = reading.aside, len(reading.aside)
            path = f"axes[{len(reading.axes)}].actions[{index}]"
        else:
            owner = axis["actions"]
            path = f"axes[{list(reading.axes).index(axis_number)}].actions[{len(owner)}]"
        self.remember(reading, path, row, FICHE_KEYS)
        objective = cleaned["objective"]
        if objective and axis is not None:
            listed = axis.setdefault("objectives", [])
            by_code = {o["code"]: o["title"] for o in listed if o.get("code")}
            if objective in by_code:  # the number alone, of an objective of the Objectifs sheet
                objective = by_code[objective]
            else:
                match = OBJECTIVE_CODE.match(objective)
                code, objective = (match.group(1), match.group(2).strip()) if match else (None, objective)
                if objective not in [o["title"] for o in listed]:
                    listed.append({"code": code, "title": objective})
        fiche = {
            "number": number,
            "title": cleaned["title"],
            "fiche_title": cleaned["fiche_title"],
            # Only under a known axis: one aside must not also complain of its objective.
            **({"objective": objective} if objective and axis is not None else {}),
            "pilotage": cleaned["pilotage"],
            "pilots": sorted(cleaned["pilots"] or []),
            "steps": [],
            "partners": [],
            "conditions": [],
            "calendar": [],
            "status": cleaned["status"],
            "progress": cleaned["progress"],
            "indicators": [],
            "notes": [],
            # The installation's lists, by name; checked against them with the whole document.
            **{key: cleaned[key] for key in ("themes", "audiences") if cleaned[key]},
            "_path": path,
        }
        owner.append(fiche)
        reading.fiches[number] = fiche


class StepForm(forms.Form):
    fiche = IntegerCell("Fiche", required=True)
    level = IntegerCell("Niveau", default=1)
    text = TextCell("Étape", required=True)
    commune = TextCell("Commune")
    done = YesNoCell("Réalisée", default=False)

    def clean_level(self):
        level = self.cleaned_data["level"]
        if level not in (None, 1, 2):
            raise forms.ValidationError("« Niveau » vaut 1 (étape) ou 2 (sous-étape).")
        return level


class StepsReader(SheetReader):
    title = "Étapes"
    form = StepForm
    references = {"fiche": "fiche"}

    def add(self, reading, row, cleaned):
        fiche = self.fiche_of(reading, row, cleaned["fiche"])
        if fiche is None or "level" in row.bad:
            return
        step = {
            "text": cleaned["text"],
            "commune": cleaned["commune"],
            "done": cleaned["done"],
            "children": [],
        }
        if cleaned["level"] == 2:
            if not fiche["steps"]:
                reading.error(
                    "une sous-étape (niveau 2) doit suivre une étape de niveau 1 de la même fiche.",
                    row.at("level"),
                )
                return
            parent = fiche["steps"][-1]
            path = f"{fiche['_path']}.steps[{len(fiche['steps']) - 1}].children[{len(parent['children'])}]"
            parent["children"].append(step)
        else:
            path = f"{fiche['_path']}.steps[{len(fiche['steps'])}]"
            fiche["steps"].append(step)
        self.remember(reading, path, row, ("text", "commune", "done"))


class PartnerForm(forms.Form):
    fiche = IntegerCell("Fiche", required=True)
    name = TextCell("Partenaire", required=True)
    role = TextCell("Rôle")
    organisation = TextCell("Organisation")


class PartnersReader(SheetReader):
    title = "Partenaires"
    form = PartnerForm
    references = {"fiche": "fiche"}

    def add(self, reading, row, cleaned):
        fiche = self.fiche_of(reading, row, cleaned["fiche"])
        if fiche is None:
            return
        self.remember(
            reading,
            f"{fiche['_path']}.partners[{len(fiche['partners'])}]",
            row,
            ("name", "role", "organisation"),
        )
        fiche["partners"].append(
            {"name": cleaned["name"], "role": cleaned["role"], "organisation": cleaned["organisation"]}
        )


class ConditionForm(forms.Form):
    fiche = IntegerCell("Fiche", required=True)
    text = TextCell("Condition", required=True)


class ConditionsReader(SheetReader):
    title = "Conditions"
    form = ConditionForm
    references = {"fiche": "fiche"}

    def add(self, reading, row, cleaned):
        fiche = self.fiche_of(reading, row, cleaned["fiche"])
        if fiche is not None:
            reading.origins[f"{fiche['_path']}.conditions[{len(fiche['conditions'])}]"] = row.at("text")
            fiche["conditions"].append(cleaned["text"])


class CalendarForm(forms.Form):
    fiche = IntegerCell("Fiche", required=True)
    label = TextCell("Période", required=True)
    description = TextCell("Ce qui est prévu")
    start = DateCell("Début")
    end = DateCell("Fin")


class CalendarReader(SheetReader):
    title = "Calendrier"
    form = CalendarForm
    references = {"fiche": "fiche"}

    def add(self, reading, row, cleaned):
        fiche = self.fiche_of(reading, row, cleaned["fiche"])
        if fiche is None:
            return
        path = f"{fiche['_path']}.calendar[{len(fiche['calendar'])}]"
        self.remember(reading, path, row, ("label", "description", "start", "end"))
        entry = {"label": cleaned["label"], "description": cleaned["description"]}
        if cleaned["start"] or cleaned["end"]:  # given dates are kept; else the label's period
            entry["start"], entry["end"] = cleaned["start"], cleaned["end"]
        fiche["calendar"].append(entry)


class IndicatorForm(forms.Form):
    fiche = IntegerCell("Fiche", required=True)
    name = TextCell("Indicateur", required=True)
    unit = TextCell("Unité")
    baseline = NumberCell("Valeur de référence")
    target = NumberCell("Cible")
    year = IntegerCell("Année")
    value = NumberCell("Valeur")
    comment = TextCell("Commentaire")

    def clean(self):
        data = self.cleaned_data
        if data.get("year") is not None and data.get("value") is None and "value" not in self.errors:
            self.add_error("value", f"la valeur de l'année {data['year']} manque.")
        if data.get("value") is not None and data.get("year") is None and "year" not in self.errors:
            self.add_error("year", "indiquez l'année de cette valeur.")
        return data


class IndicatorsReader(SheetReader):
    title = "Indicateurs"
    form = IndicatorForm
    references = {"fiche": "fiche"}

    def add(self, reading, row, cleaned):
        fiche = self.fiche_of(reading, row, cleaned["fiche"])
        if fiche is None:
            return
        indicator = next((i for i in fiche["indicators"] if i["name"] == cleaned["name"]), None)
        if indicator is None:
            path = f"{fiche['_path']}.indicators[{len(fiche['indicators'])}]"
            self.remember(reading, path, row, ("name", "unit", "baseline", "target"))
            indicator = {
                "name": cleaned["name"],
                "unit": cleaned["unit"],
                "baseline": cleaned["baseline"],
                "target": cleaned["target"],
                "values": [],
                "_path": path,
            }
            fiche["indicators"].append(indicator)
        if cleaned["year"] is not None and cleaned["value"] is not None:
            values = indicator["values"]
            if any(v["year"] == cleaned["year"] for v in values):
                reading.error(
                    f"l'année {cleaned['year']} apparaît deux fois pour cet indicateur.", row.at("year")
                )
                return
            path = f"{indicator['_path']}.values[{len(values)}]"
            self.remember(reading, path, row, ("year", "value"))
            values.append({"year": cleaned["year"], "value": cleaned["value"], "comment": cleaned["comment"]})


class NoteForm(forms.Form):
    fiche = IntegerCell("Fiche", required=True)
    date = DayMonthOrYearCell("Date", required=True)
    kind = ChoiceCell("Nature", NOTE_KINDS, default=NoteKind.FOLLOW_UP.value)
    author = TextCell("Auteur")
    text = TextCell("Note", required=True)


class NotesReader(SheetReader):
    title = "Notes"
    form = NoteForm
    references = {"fiche": "fiche"}

    def add(self, reading, row, cleaned):
        fiche = self.fiche_of(reading, row, cleaned["fiche"])
        if fiche is None:
            return
        path = f"{fiche['_path']}.notes[{len(fiche['notes'])}]"
        self.remember(reading, path, row, ("date", "kind", "text", "author"))
        day, precision = cleaned["date"] or ("", "day")
        note = {"date": day, "kind": cleaned["kind"], "text": cleaned["text"], "author": cleaned["author"]}
        if precision != "day":
            note["date_precision"] = precision
        fiche["notes"].append(note)


class MoneyCell(NumberCell):
    """An amount in euros: 12500, "12 500", "12 500,50 €"; never negative."""

    def convert(self, value):
        if isinstance(value, str):
            value = value.replace("€", "").strip()
        amount = super().convert(value)
        if amount < 0:
            raise forms.ValidationError(f"« {self.label} » ne peut pas être négatif (trouvé : {amount}).")
        if amount > LARGEST_AMOUNT:
            raise forms.ValidationError(
                f"« {self.label} » est invraisemblable : 999 999 999 999,99 € au plus."
            )
        return amount


class FinancingForm(forms.Form):
    fiche = IntegerCell("Fiche", required=True)
    funder = TextCell("Financeur", required=True)
    organisation = TextCell("Organisation")
    scheme = TextCell("Dispositif")
    year = IntegerCell("Année")
    planned = MoneyCell("Montant prévu (€)")
    granted = MoneyCell("Montant accordé (€)")
    spent = MoneyCell("Montant dépensé (€)")

    def clean(self):
        data = self.cleaned_data
        granted, spent = data.get("granted"), data.get("spent")
        if granted is not None and spent is not None and spent > granted:
            self.add_error(
                "spent",
                f"le montant dépensé ({euros(spent)}) dépasse le montant accordé ({euros(granted)}).",
            )
        return data


class FinancingReader(SheetReader):
    title = "Financements"
    form = FinancingForm
    aliases = ("Financement", "Financeurs", "Cofinancements")
    references = {"fiche": "fiche"}

    def add(self, reading, row, cleaned):
        fiche = self.fiche_of(reading, row, cleaned["fiche"])
        if fiche is None or row.bad & {"planned", "granted", "spent", "year"}:
            return
        lines = fiche.setdefault("financing", [])
        keys = ("funder", "organisation", "scheme", "year", "planned", "granted", "spent")
        self.remember(reading, f"{fiche['_path']}.financing[{len(lines)}]", row, keys)
        lines.append({key: cleaned[key] for key in keys})


# The order matters: a sheet is read after the sheets it refers to.
READERS: list[SheetReader] = [
    PlanReader(),
    CommunesReader(),
    OrganisationsReader(),
    AxesReader(),
    DiagnosticReader(),
    ObjectivesReader(),
    FichesReader(),
    StepsReader(),
    PartnersReader(),
    ConditionsReader(),
    CalendarReader(),
    IndicatorsReader(),
    NotesReader(),
    FinancingReader(),
]


def read_book(book) -> Reading:
    """Every sheet read, every error collected; the document holds what could be read."""
    reading = Reading()
    for reader in READERS:
        reader.read(book, reading)
    reading.data["axes"] = list(reading.axes.values())
    return reading


def strip_private(data: dict[str, Any]) -> None:
    for axis in data["axes"]:
        axis.pop("_path", None)
        for fiche in axis["actions"]:
            fiche.pop("_path", None)
            for indicator in fiche["indicators"]:
                indicator.pop("_path", None)
