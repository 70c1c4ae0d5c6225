from django.db import migrations, models
from django.utils import timezone


def mark_unknown_as_started_now(apps, schema_editor):
    # When those writes began was not kept: now is the safe guess (their retry waits a little
    # longer before trusting that they did not land).
    ActivitySync = apps.get_model("ats_sync", "ActivitySync")
    ActivitySync.objects.filter(outcome_unknown=True).update(write_started_at=timezone.now())


def mark_started_as_unknown(apps, schema_editor):
    ActivitySync = apps.get_model("ats_sync", "ActivitySync")
    ActivitySync.objects.filter(write_started_at__isnull=False).update(outcome_unknown=True)


class Migration(migrations.Migration):
    dependencies = [
        ("ats_sync", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="activitysync",
            name="write_started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(mark_unknown_as_started_now, mark_started_as_unknown),
        migrations.RemoveField(
            model_name="activitysync",
            name="outcome_unknown",
        ),
    ]
