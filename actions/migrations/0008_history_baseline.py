"""Give every row loaded before its history was kept a "+" history row.

Indicators and their values were bulk-created without history, and data loaded by older code
may lack it too: reading a fiche's state at a date, or diffing it, needs a first version. These
rows carry the import reason, which the journal treats as the silent baseline.
"""

from django.db import migrations
from django.utils import timezone

IMPORT_REASON = "import"
MODELS = ["Action", "Step", "ActionPartner", "Condition", "CalendarEntry", "Indicator", "IndicatorValue", "Note"]


def baseline(apps, schema_editor):
    now = timezone.now()
    for name in MODELS:
        model = apps.get_model("actions", name)
        historical = apps.get_model("actions", f"Historical{name}")
        kept = {f.attname for f in historical._meta.concrete_fields}
        fields = [f.attname for f in model._meta.concrete_fields if f.attname in kept]
        missing = model._base_manager.exclude(pk__in=historical.objects.values("id")).order_by("pk")
        rows = [
            historical(
                **{field: getattr(obj, field) for field in fields},
                history_date=now,
                history_type="+",
                history_change_reason=IMPORT_REASON,
                history_user=None,
            )
            for obj in missing.iterator()
        ]
        historical.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("actions", "0007_archive_state_done_progress")]

    operations = [migrations.RunPython(baseline, migrations.RunPython.noop)]
