"""GIN indexes for the organization's search, on PostgreSQL only (``bizops.search``): each covers the
expression ``planning.search`` filters on, so the database keeps it current on every write."""

from django.db import migrations

from bizops.search import add_search_index, remove_search_index

INDEXES = (
    ("Plan", "plan_search", (("title", "A"), ("ultimate_goal", "B"), ("description", "B"))),
    ("Milestone", "milestone_search", (("title", "A"), ("description", "B"))),
    ("Objective", "objective_search", (("title", "A"), ("description", "B"), ("why", "B"))),
    ("ActionStep", "step_search", (("title", "A"), ("notes", "B"))),
    ("Comment", "comment_search", (("body", "A"),)),
)


def forwards(apps, schema_editor):
    for model, name, fields in INDEXES:
        add_search_index(apps.get_model("planning", model), name, fields, schema_editor)


def backwards(apps, schema_editor):
    for model, name, fields in INDEXES:
        remove_search_index(apps.get_model("planning", model), name, fields, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("planning", "0006_plan_approved_alone")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
