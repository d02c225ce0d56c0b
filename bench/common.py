"""What the benchmark scripts share: Django set-up on the bench settings, the bench database, names."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

BENCH_SLUG = "bench"  # the large organization
SMALL_SLUG = "bench-small"  # the same shapes at toy size: query counts must match the large one's
XL_SLUG = "bench-xl"  # one 22,040-node plan: how the tree API and the map grow past the large one
REMINDERS_SLUG = "bench-reminders"  # 10,000 members, for bench/reminders.py
PASSWORD = "bench-password-1"
# One precomputed MD5 hash (bench.settings lists that hasher first) for every bench user.
PASSWORD_SALT = "benchsalt"


def email_domain(slug: str) -> str:
    return f"{slug}.bench.example"


def settings_module() -> str:
    """``bench.settings``, or a module that star-imports it (``BENCH_SETTINGS_MODULE``) to try a change."""
    return os.environ.get("BENCH_SETTINGS_MODULE", "bench.settings")


def bench_env() -> dict[str, str]:
    """The environment for a child process (web server, worker, measuring child)."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = settings_module()
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def setup() -> None:
    """Django on the bench settings (forced: a DJANGO_SETTINGS_MODULE in the environment is ignored)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module()
    bench_var = Path(os.environ.get("BENCH_VAR_DIR", str(ROOT / "var" / "bench")))
    (bench_var / "static").mkdir(parents=True, exist_ok=True)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    guard()


def guard() -> None:
    """Refuse to go on unless connected to a bizops_bench* database (belt and braces: see settings)."""
    from django.conf import settings
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if not str(name).startswith("bizops_bench") or connection.vendor != "postgresql":
        raise SystemExit(f"Refusing to run: the database is {connection.vendor}:{name}, not bizops_bench.")
    if urlsplit(settings.CELERY_BROKER_URL).path.lstrip("/") in ("", "0"):
        raise SystemExit("Refusing to run: the Celery broker is Redis db 0.")


def ensure_database(*, migrate: bool = True) -> None:
    """Create the bench database if it is missing, then apply the migrations."""
    import psycopg
    from django.core.management import call_command
    from django.db import connection

    params = connection.get_connection_params()
    name = connection.settings_dict["NAME"]
    maintenance = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    with psycopg.connect(dbname="postgres", autocommit=True, **maintenance) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"creating database {name}")
            admin.execute(f'CREATE DATABASE "{name}"')
    if migrate:
        call_command("migrate", interactive=False, verbosity=0)


def var_dir() -> Path:
    from django.conf import settings

    path = Path(settings.BENCH_VAR_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Targets:
    """The objects the measurements use, found by their generated names."""

    slug: str
    org_id: int
    admin_user_id: int
    heavy_user_id: int
    heavy_membership_id: int
    big_plan_id: int
    big_plan_nodes: int
    kpi_id: int
    kpi_measurements: int
    key_result_ids: list[int]  # key results the heavy member owns in running plans
    objective_id: int  # an objective of the big plan with key results, a KPI and a weekly step
    mid_plan_id: int  # a running plan of ordinary size
    anchor: str


def find_targets(slug: str) -> Targets:
    from bizops.models import Membership, Organization
    from metrics.models import KPI, KeyResult, Measurement
    from planning.models import ActionStep, Milestone, Objective, Plan, PlanStatus

    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        raise SystemExit(f"No organization {slug!r} in the bench database: run `python -m bench.generate`.")
    domain = email_domain(slug)
    admin = Membership.objects.get(organization=org, user__email=f"admin@{domain}")
    heavy = Membership.objects.get(organization=org, user__email=f"heavy@{domain}")
    big = Plan.objects.filter(organization=org, title__startswith="Company plan").get()
    nodes = sum(m.objects.filter(plan=big).count() for m in (Milestone, Objective, ActionStep))
    kpi = KPI.objects.filter(organization=org).order_by("name").first()
    # Numeric ones: the check-in scenarios send values such as 123.5, which a yes/no key result refuses.
    krs = list(
        KeyResult.objects.filter(owner=heavy, plan__status__in=[PlanStatus.ACTIVE, PlanStatus.APPROVED])
        .exclude(kind="yes_no")
        .order_by("pk")
        .values_list("pk", flat=True)[:50]
    )
    # An objective with everything its page shows: key results, a linked KPI, a recurring step.
    objective = (
        Objective.objects.filter(plan=big, kpis__isnull=False, steps__recurrence="weekly")
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    mid = (
        Plan.objects.filter(organization=org, status=PlanStatus.ACTIVE)
        .exclude(pk=big.pk)
        .order_by("pk")
        .first()
        or big
    )
    anchor = big.description.rsplit("anchor ", 1)[-1].rstrip(").") if "anchor " in big.description else "?"
    return Targets(
        slug=slug,
        org_id=org.pk,
        admin_user_id=admin.user_id,
        heavy_user_id=heavy.user_id,
        heavy_membership_id=heavy.pk,
        big_plan_id=big.pk,
        big_plan_nodes=nodes,
        kpi_id=kpi.pk,
        kpi_measurements=Measurement.objects.filter(kpi=kpi).count(),
        key_result_ids=krs,
        objective_id=objective,
        mid_plan_id=mid.pk,
        anchor=anchor,
    )


def rss_mb() -> float:
    """This process's resident set size now, in MB."""
    return _status_kb("VmRSS") / 1024


def peak_rss_mb(pid: int | str = "self") -> float:
    """A process's RSS high-water mark (VmHWM), in MB."""
    return _status_kb("VmHWM", pid) / 1024


def _status_kb(field: str, pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def load_average() -> str:
    """The 1, 5 and 15-minute load averages: other work on the machine skews every timing."""
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def wait_for_quiet(seconds: int, threshold: float = 0.5) -> None:
    """Wait (up to ``seconds``) until the 1-minute load average is below ``threshold``."""
    import time

    deadline = time.monotonic() + seconds
    while seconds and float(load_average().split()[0]) >= threshold and time.monotonic() < deadline:
        time.sleep(5)
