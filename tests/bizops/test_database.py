"""The database connection as configured: PostgreSQL plans a repeated query once per connection."""

import os

import pytest
from django.db import connection

from bizops.models import Organization


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
