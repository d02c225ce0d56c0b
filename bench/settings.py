"""Settings for the benchmarks: the app's own settings, pointed at the bench database and Redis db 9.

The service URLs are forced (not defaulted) before the app's settings are read, so that a
``DATABASE_URL`` or ``REDIS_URL`` in the environment or in ``.env`` can never send a benchmark to a
developer's database; they are then built by the app's own code (connection reuse, health checks,
timeouts) exactly as in a deployment. Differences from the defaults, each for a reason:

- ``DEBUG`` off (no query log kept in memory, no static finders), as in production;
- access-log lines off unless ``BENCH_LOG_LEVEL=INFO`` (they would flood the terminal);
- the MD5 hasher first: every bench user shares one precomputed hash, and logins must not spend
  PBKDF2's half second each or rewrite the hash;
- ``API_RATE`` raised so the throttle still runs its Redis ``incr`` on every API call but never
  answers 429 in the middle of a measurement;
- emails to files under ``var/bench/mail`` (counted across processes by the reminders benchmark);
- ``bench.urls``: the app's URLs plus one bare JSON view, the framework floor.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bizops_bench")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")

_db_name = urlsplit(BENCH_DATABASE_URL).path.lstrip("/")
_redis_db = urlsplit(BENCH_REDIS_URL).path.lstrip("/")
if not _db_name.startswith("bizops_bench"):
    raise RuntimeError(f"Benchmarks run only against a bizops_bench* database, not {_db_name!r}.")
if _redis_db in ("", "0"):
    raise RuntimeError("Benchmarks need their own Redis database (db 9 by default), never db 0.")

os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
os.environ["REDIS_URL"] = BENCH_REDIS_URL
os.environ["CELERY_BROKER_URL"] = BENCH_REDIS_URL
os.environ["EMAIL_URL"] = ""
os.environ["DJANGO_DEBUG"] = "false"
os.environ["LOG_LEVEL"] = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

from bizops.settings import *  # noqa: E402, F403
from bizops.settings import BASE_DIR  # noqa: E402

ROOT_URLCONF = "bench.urls"
# The base settings have no key of their own (debug off, nothing signed without one): a bench-only key,
# unless the environment names one.
SECRET_KEY = (
    os.environ.get("DJANGO_SECRET_KEY") or "bench-only-key-never-deployed-5f0c2a9e7b3d1f8a6c4e2b0d9f7a5c3e"
)
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
API_RATE = os.environ.get("BENCH_API_RATE", "1000000/min")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
SITE_URL = "http://127.0.0.1:8000"

BENCH_VAR_DIR = Path(os.environ.get("BENCH_VAR_DIR", str(BASE_DIR / "var" / "bench")))
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = str(BENCH_VAR_DIR / "mail")
STATIC_ROOT = str(BENCH_VAR_DIR / "static")
