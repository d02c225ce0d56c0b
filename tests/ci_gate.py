"""Under ``CI`` a skipped browser or worker test fails the run: a CI machine without Chromium, axe-core
or Redis must not pass for green. Locally they still skip, saying what to install.

``tests/conftest.py`` imports the hook; ``tests/test_test_hygiene.py`` runs it in a pytest of its own.
"""

from __future__ import annotations

import os

import pytest

MUST_RUN_IN_CI = ("e2e", "worker")


def in_ci() -> bool:
    """``CI`` is set, as CI services set it (``CI=true``); empty, ``0`` or ``false`` mean local."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and in_ci()
        and any(item.get_closest_marker(name) for name in MUST_RUN_IN_CI)
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"skipped, but CI must run every browser and worker test: {reason}"
    return report
