import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("bizops", "0006_delivery_states"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("actor_name", models.CharField(blank=True, max_length=120)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("kind", models.CharField(max_length=30)),
                ("action", models.CharField(max_length=40)),
                ("object_id", models.PositiveBigIntegerField(blank=True, null=True)),
                ("object_repr", models.CharField(blank=True, max_length=200)),
                ("plan_id", models.PositiveBigIntegerField(blank=True, null=True)),
                ("changes", models.JSONField(blank=True, default=dict)),
                ("comment", models.TextField(blank=True)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="bizops.organization"
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
                "indexes": [
                    models.Index(fields=["organization", "-created_at"], name="bizops_audi_organiz_8ae6a2_idx"),
                    models.Index(fields=["plan_id", "-created_at"], name="bizops_audi_plan_id_002b57_idx"),
                    models.Index(fields=["organization", "kind", "-created_at"], name="bizops_audi_organiz_936f28_idx"),
                    models.Index(fields=["organization", "actor", "-created_at"], name="bizops_audi_organiz_6229f9_idx"),
                ],
            },
        ),
    ]
