"""GIN indexes for the organization's search, on PostgreSQL only (``bizops.search``): each covers the
expression ``metrics.search`` filters on, so the database keeps it current on every write."""

from django.db import migrations

from bizops.search import add_search_index, remove_search_index

INDEXES = (
    ("KeyResult", "key_result_search", (("title", "A"),)),
    ("KPI", "kpi_search", (("name", "A"), ("description", "B"))),
)


def forwards(apps, schema_editor):
    for model, name, fields in INDEXES:
        add_search_index(apps.get_model("metrics", model), name, fields, schema_editor)


def backwards(apps, schema_editor):
    for model, name, fields in INDEXES:
        remove_search_index(apps.get_model("metrics", model), name, fields, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("metrics", "0004_key_result_kpi")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
