"""Fixtures of the metrics API tests (Acme, its people, plan and KPI come from ``tests/conftest.py``)."""

from __future__ import annotations

import pytest

from tests.planning.factories import api_client


@pytest.fixture
def manager(acme):
    """An API client signed in as Acme's manager."""
    return api_client(acme.manager)
