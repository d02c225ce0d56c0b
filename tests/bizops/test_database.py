"""The database connection as configured: PostgreSQL plans a repeated query once per connection."""

import os

import pytest
from django.db import connection

from bizops.models import Organization


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_query_run_twice_is_prepared_and_then_reused(acme, other):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    if os.environ.get("DATABASE_PREPARED_STATEMENTS", "").lower() in ("false", "0", "no", "off"):
        pytest.skip("turned off by DATABASE_PREPARED_STATEMENTS")

    def prepared() -> list:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
                ['%"bizops_organization"."slug" = $1%'],
            )
            return cursor.fetchall()

    assert prepared() == []
    for slug in ("acme", "globex", "acme"):  # different values, one statement
        assert Organization.objects.filter(slug=slug).get().slug == slug
    assert len(prepared()) == 1


@pytest.mark.django_db
def test_a_bulk_insert_of_more_rows_than_postgresqls_parameter_limit_allows(acme, plan):
    """Bound by the server, a statement takes at most 65,535 parameters: 5,000 steps as rows of
    parameters would need ~80,000. Django 5.2 sends them as one array per column (UNNEST)."""
    from planning.models import ActionStep, Objective

    objective = Objective.objects.filter(plan=plan).first()
    steps = ActionStep.objects.bulk_create(
        ActionStep(organization=acme.org, plan=plan, objective=objective, title=f"S{i}", position=i)
        for i in range(5000)
    )
    assert len(steps) == 5000 and ActionStep.objects.filter(objective=objective).count() == 5001
