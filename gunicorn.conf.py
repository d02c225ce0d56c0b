"""gunicorn's settings, read from the working directory by every ``gunicorn bizops.wsgi`` (Procfile,
Dockerfile, ``bench/load.py``); command-line flags still win over them.

Processes, not threads, and one per core. The pages are CPU-bound Python between short queries, so
threads in one process mostly wait for its GIL, and processes beyond the cores mostly evict each
other from the CPU's caches. On the two-core bench machine (``bench/README.md``), the mixed load ran
(runs within one hour, at one commit; the README's table compares commits back to back):

- 2 workers x 4 threads: 118-124 req/s, p95 357-369 ms;
- 4 single-threaded workers: 123-135 req/s, p95 204-221 ms, 12.5 ms of Python per request;
- 2 single-threaded workers: 146-148 req/s, p95 216-218 ms, 10.6 ms of Python per request.

Single-threaded workers are gunicorn's ``sync`` class: one request at a time each, no keep-alive, so
every request goes to whichever worker is free. Like any sync server it belongs behind a reverse
proxy (nginx, Caddy, a cloud load balancer) that buffers slow clients. Where PostgreSQL runs on
another machine, workers wait longer for it, and a few more than the cores may pay off: measure.

- ``WEB_CONCURRENCY``: worker processes (default: one per CPU this process may use, a container's
  CPU quota included);
- ``GUNICORN_THREADS``: threads per worker (default 1; above 1, gunicorn uses its ``gthread`` class).
"""

from __future__ import annotations

import os


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cpus() -> int:
    """The CPUs this process may use: its affinity (Linux), within a container's CPU quota (cgroup v2)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        with open("/sys/fs/cgroup/cpu.max") as limit:
            quota, period = limit.read().split()
        if quota != "max":
            count = min(count, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return count


workers = _int_env("WEB_CONCURRENCY", _cpus())
threads = _int_env("GUNICORN_THREADS", 1)
# No control socket: nothing here uses gunicornc, and it would need a writable runtime directory.
control_socket_disable = True
# No access log: bizops.middleware.RequestIdMiddleware writes one line a request, with its id.


def post_worker_init(worker) -> None:
    """Once the worker has loaded Django, before its first request: set up the cyclic garbage
    collector for a long-lived worker (``bizops.collector``: ``gc.freeze`` and rarer full collections).
    A page that builds a big plan's tree allocates enough to start full collections, and each one
    walked every object loaded at startup and the tree built so far (bench/README.md, "Garbage
    collection")."""
    from bizops.collector import prepare_worker

    prepare_worker()
