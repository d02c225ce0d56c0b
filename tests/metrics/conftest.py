from datetime import date

import pytest

from metrics import services
from metrics.models import KPI


@pytest.fixture
def leads(acme) -> KPI:
    return services.kpi_create(
        actor=acme.manager,
        name="Leads reached a month",
        unit="number",
        direction="increase",
        target=100,
        amber_threshold=85,
        red_threshold=70,
        frequency="monthly",
        owner=acme.member,
    )


@pytest.fixture
def key_result(acme, plan, tree):
    _, objective, _ = tree
    return services.key_result_create(
        actor=acme.manager, objective=objective, title="Clients signed", start=0, target=5
    )


@pytest.fixture
def march():
    return date(2027, 3, 15)
