"""Running code in real threads, each with its own database connection, for the race tests.

``run_in_threads`` joins every thread with a timeout, fails when one is still running (a deadlock
or a lock nobody released), and re-raises what a thread raised: a race test cannot pass because an
assertion inside a thread went unseen. ``wait_for_lock_waiters`` lets a test order two transactions
without sleeping: it returns once PostgreSQL reports that many sessions waiting on a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection


def run_in_threads(*targets: Callable[[], object], timeout: float = 30) -> list[object]:
    """Run each target in its own thread and connection; their results, in order."""
    results: list[object] = [None] * len(targets)
    errors: list[BaseException] = []

    def run(index: int, target: Callable[[], object]) -> None:
        try:
            results[index] = target()
        except BaseException as exc:  # re-raised in the test's thread below
            errors.append(exc)
        finally:
            connection.close()

    # Named after their targets, so a stuck one is recognisable; daemons, so one stuck for good
    # fails its test without keeping the test run from exiting.
    threads = [
        threading.Thread(
            target=run, args=(i, target), name=f"{getattr(target, '__name__', 'race')}-{i}", daemon=True
        )
        for i, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    if stuck:
        # What another thread raised is often why this one waits for ever: show it as the cause.
        raise AssertionError(f"threads still running after {timeout} s: {stuck}") from (
            errors[0] if errors else None
        )
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BaseExceptionGroup("several threads failed", errors)  # type: ignore[type-var]
    return results


def wait_for_lock_waiters(count: int = 1, timeout: float = 10) -> None:
    """Return once ``count`` sessions of this database wait on a lock (PostgreSQL only)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"no {count} session(s) waiting on a lock after {timeout} s")
            time.sleep(0.02)
