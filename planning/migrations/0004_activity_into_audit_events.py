from django.db import migrations


def copy_activity(apps, schema_editor):
    """The plan's activity log becomes its part of the one audit trail (bizops.AuditEvent)."""
    Activity = apps.get_model("planning", "Activity")
    AuditEvent = apps.get_model("bizops", "AuditEvent")
    batch = []
    for row in Activity.objects.select_related("actor").order_by("pk").iterator(chunk_size=2000):
        batch.append(
            AuditEvent(
                organization_id=row.organization_id,
                actor_id=row.actor_id,
                actor_name=(row.actor.display_name or row.actor.email)[:120] if row.actor_id else "",
                created_at=row.created_at,
                kind=row.node_kind,
                action=row.verb,
                object_id=row.node_id,
                object_repr=row.node_title,
                plan_id=row.plan_id,
                changes=row.changes,
            )
        )
        if len(batch) >= 2000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    if batch:
        AuditEvent.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ("bizops", "0007_audit_events"),
        ("planning", "0003_submissions"),
    ]

    operations = [
        migrations.RunPython(copy_activity, migrations.RunPython.noop),
        migrations.DeleteModel(name="Activity"),
    ]
