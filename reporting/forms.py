from django import forms

from actions.models import Action, Note
from reporting import documents
from reporting.models import Decision, DecisionStatus, Meeting


class MeetingForm(forms.ModelForm):
    class Meta:
        model = Meeting
        fields = ["instance", "date", "attendees", "agenda"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "attendees": forms.Textarea(attrs={"rows": 3}),
            "agenda": forms.Textarea(attrs={"rows": 3}),
        }


class DecisionForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = ["text", "status", "actions"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actions"].queryset = Action.objects.filter(plan=plan).order_by("number")
        self.fields["actions"].label_from_instance = lambda action: (
            f"Action {action.number} : {action.title[:80]}"
        )
        self.fields["actions"].required = False


class DecisionStatusForm(forms.Form):
    status = forms.ChoiceField(label="État", choices=DecisionStatus.choices)


class PlansFilterForm(forms.Form):
    """The filters and sort of the overview of plans, read from the query string (bookmarkable)."""

    q = forms.CharField(label="Territoire", required=False, max_length=200)
    late = forms.BooleanField(label="Avec fiches en retard", required=False)
    no_copil = forms.IntegerField(
        label="Sans COPIL depuis (mois)", required=False, min_value=1, max_value=120
    )
    sort = forms.ChoiceField(
        label="Trier par",
        required=False,
        choices=[
            ("territory", "Territoire (A → Z)"),
            ("-territory", "Territoire (Z → A)"),
            ("-progress", "Avancement (le plus avancé d'abord)"),
            ("progress", "Avancement (le moins avancé d'abord)"),
            ("-late", "Fiches en retard (le plus d'abord)"),
            ("late", "Fiches en retard (le moins d'abord)"),
            ("last_copil", "Dernier COPIL (le plus ancien d'abord)"),
            ("-last_copil", "Dernier COPIL (le plus récent d'abord)"),
        ],
    )

    def filters(self) -> dict:
        """The valid filters as plans_overview() takes them; an invalid one is shown with its
        error and ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "territory": data.get("q") or "",
            "late_only": bool(data.get("late")),
            "no_copil_months": data.get("no_copil"),
            "sort": data.get("sort") or "territory",
        }


class DocumentForm(forms.Form):
    """One file, and for a fiche, what it is joined to (the fiche or one of its notes). The
    file is checked here (reporting.documents.check): a refusal is shown under the field."""

    file = forms.FileField(label="Fichier", allow_empty_file=True)
    note = forms.ModelChoiceField(
        label="Joindre à",
        queryset=Note.objects.none(),
        required=False,
        empty_label="La fiche-action elle-même",
    )

    def __init__(self, *args, notes=None, note_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = documents.hint()
        self.fields["file"].widget.attrs["accept"] = documents.ACCEPT_ATTRIBUTE
        if notes is None:
            del self.fields["note"]
        else:
            note = self.fields["note"]
            note.queryset = notes
            note.label_from_instance = lambda n: f"La note du {n.date:%d/%m/%Y} : {n.text[:60]}"
            note.required = note_required
            if note_required:
                note.empty_label = None
                note.help_text = "Vous pouvez joindre un document à vos propres notes sur cette fiche."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        documents.check(upload)
        return upload
