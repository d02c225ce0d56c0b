"""The test suite's own machinery: the thread runner of the race tests reports what its threads did,
a skipped browser or worker test fails under CI, and Django's async guard is on outside the browser."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.concurrency import run_in_threads

ROOT = Path(__file__).resolve().parents[1]


# --- run_in_threads -----------------------------------------------------------------------------------


def test_the_runner_returns_each_targets_result_in_order():
    assert run_in_threads(lambda: 1, lambda: "two", lambda: None) == [1, "two", None]


def test_the_runner_reraises_what_a_thread_raised():
    def fails():
        raise ValueError("seen in the test's thread")

    with pytest.raises(ValueError, match="seen in the test's thread"):
        run_in_threads(lambda: None, fails)


def test_the_runner_reraises_a_failed_assertion_in_a_thread():
    def asserts():
        assert 1 + 1 == 3, "a thread's assertion"

    with pytest.raises(AssertionError, match="a thread's assertion"):
        run_in_threads(asserts)


def test_the_runner_reports_every_failing_thread():
    def fails(n):
        def target():
            raise KeyError(n)

        return target

    with pytest.raises(ExceptionGroup) as info:
        run_in_threads(fails(1), fails(2))
    assert sorted(exc.args[0] for exc in info.value.exceptions) == [1, 2]


def test_the_runner_fails_when_a_thread_is_still_running_at_the_timeout():
    release = threading.Event()

    def stuck():
        release.wait(timeout=10)

    try:
        with pytest.raises(AssertionError, match=r"still running after 0.2 s: \['stuck-1'\]"):
            run_in_threads(lambda: None, stuck, timeout=0.2)
    finally:
        release.set()


def test_a_stuck_thread_shows_what_another_thread_raised():
    release = threading.Event()

    def gives_up():
        raise RuntimeError("never released the lock")

    try:
        with pytest.raises(AssertionError, match="still running") as info:
            run_in_threads(gives_up, lambda: release.wait(timeout=10), timeout=0.2)
        assert isinstance(info.value.__cause__, RuntimeError)
    finally:
        release.set()


# --- Browser and worker tests under CI ------------------------------------------------------------------

SKIPPING = """
import pytest

@pytest.mark.e2e
def test_browser():
    pytest.skip("Chromium is missing")

@pytest.mark.worker
def test_worker():
    pytest.skip("Redis is missing")

def test_other():
    pytest.skip("not needed here")
"""


def run_pytest(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    """A pytest of its own, with only the suite's CI gate as plugin, over tests that skip."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    e2e\n    worker\n")
    (tmp_path / "conftest.py").write_text("from tests.ci_gate import pytest_runtest_makereport  # noqa\n")
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_under_ci_a_skipped_browser_or_worker_test_fails_the_run(tmp_path):
    result = run_pytest(tmp_path, ci="true")
    assert result.returncode == 1, result.stdout
    assert "2 failed, 1 skipped" in result.stdout
    assert "CI must run every browser and worker test: Chromium is missing" in result.stdout


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_locally_they_skip(tmp_path, ci):
    result = run_pytest(tmp_path, ci=ci)
    assert result.returncode == 0, result.stdout
    assert "3 skipped" in result.stdout


# --- Django's async guard ------------------------------------------------------------------------------


def test_the_async_unsafe_switch_is_off_outside_the_browser_tests():
    """The browser fixtures turn it on for each browser test and off after (``tests/e2e/conftest.py``);
    imported for the whole run, it would hide an ORM call made from async code anywhere."""
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
