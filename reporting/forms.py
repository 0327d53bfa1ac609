from django import forms

from actions.models import Action
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
