"""What metrics gives the organization's search (``bizops.search``): key results and KPIs.

The field lists are what the app's search indexes cover (``metrics/migrations/0005_search``):
``tests/bizops/test_search.py`` holds each query to its index on PostgreSQL.
"""

from __future__ import annotations

from django.urls import reverse

from bizops.models import Organization
from bizops.search import Fields, Hit, Source, Terms, excerpt, highlight, register_source, top

from .models import KPI, Frequency, KeyResult

KEY_RESULT_SEARCHED: Fields = (("title", "A"),)
KPI_SEARCHED: Fields = (("name", "A"), ("description", "B"))


def find_key_results(organization: Organization, terms: Terms, limit: int) -> list[Hit]:
    queryset = KeyResult.objects.filter(organization=organization)
    rows = top(queryset, KEY_RESULT_SEARCHED, terms, limit, "title", "plan__title", "objective__title")
    return [
        Hit(
            name=row["title"],
            title=highlight(row["title"], terms),
            url=reverse("metrics:key_result_detail", args=[organization.slug, row["pk"]]),
            context=f"{row['plan__title']} · {row['objective__title']}",
            rank=row["search_rank"],
        )
        for row in rows
    ]


def find_kpis(organization: Organization, terms: Terms, limit: int) -> list[Hit]:
    queryset = KPI.objects.filter(organization=organization)
    rows = top(queryset, KPI_SEARCHED, terms, limit, "name", "description", "frequency")
    return [
        Hit(
            name=row["name"],
            title=highlight(row["name"], terms),
            url=reverse("metrics:kpi_detail", args=[organization.slug, row["pk"]]),
            context=f"KPI, {Frequency(row['frequency']).label.lower()}",
            excerpt=excerpt(terms, row["description"]),
            rank=row["search_rank"],
        )
        for row in rows
    ]


def register() -> None:
    register_source(Source(kind="key_result", label="Key results", order=50, find=find_key_results))
    register_source(Source(kind="kpi", label="KPIs", order=60, find=find_kpis))
