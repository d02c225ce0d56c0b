"""gunicorn's settings, read from the working directory by every ``gunicorn bizops.wsgi`` (Procfile,
Dockerfile, ``bench/load.py``); command-line flags still win over them.

Processes, not threads. The pages are CPU-bound Python between short queries, so threads in one
process mostly wait for its GIL: on the two-core bench machine, 2 workers x 4 threads served the mixed
load at p95 357-369 ms, 4 single-threaded workers at p95 204-221 ms for the same throughput
(``bench/README.md``). Single-threaded workers are gunicorn's ``sync`` class: one request at a time
each, no keep-alive, so every request is handed to whichever worker is free. Like any sync server it
belongs behind a reverse proxy (nginx, Caddy, a cloud load balancer) that buffers slow clients.

- ``WEB_CONCURRENCY``: worker processes (default: two per CPU this process may run on);
- ``GUNICORN_THREADS``: threads per worker (default 1; above 1, gunicorn uses its ``gthread`` class).
"""

from __future__ import annotations

import os


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


workers = _int_env("WEB_CONCURRENCY", 2 * len(os.sched_getaffinity(0)))
threads = _int_env("GUNICORN_THREADS", 1)
# No control socket: nothing here uses gunicornc, and it would need a writable runtime directory.
control_socket_disable = True
# No access log: bizops.middleware.RequestIdMiddleware writes one line a request, with its id.
