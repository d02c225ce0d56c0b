"""Reads that build hundreds of thousands of short-lived objects pause Python's cyclic garbage
collector while they run.

A 22,040-node plan's tree API builds ~600,000 objects (model instances, rows, figures, the JSON):
the collector's passes over them took 100 ms of a 650 ms read, and that share grows faster than the
plan (each pass of the oldest generation walks everything alive). Those objects die with the
response, by reference counting; nothing waits for the collector. So the biggest reads (the tree API,
the strategy map, the visual map) run with it paused, and it resumes when the last such read in the process ends (its
next pass comes as allocations trigger it). ``gc.disable``/``gc.enable`` are the standard library's
public switches; pauses nest and overlap across threads (a counter under a lock), and a collector
someone else turned off stays off. It is on by default for one thread per process (gunicorn's
default here): with threads, overlapping big reads could keep the collector off for every request of
the process, so ``BIZOPS_PAUSE_GC`` defaults to off when ``GUNICORN_THREADS`` is above 1.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings

_lock = threading.Lock()
_pauses = 0
_resume = False  # whether the collector ran when the first pause began

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def gc_paused() -> Iterator[None]:
    global _pauses, _resume
    if not getattr(settings, "BIZOPS_PAUSE_GC", True):
        yield
        return
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()


def pauses_gc(view: F) -> F:
    """A view (function or method) that runs with the collector paused (``gc_paused``)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with gc_paused():
            return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
