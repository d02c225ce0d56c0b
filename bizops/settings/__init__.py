"""Settings for BizOps Planner, read from the environment: the base every other settings module extends.

Safe by default: debug off and no secret key (Django refuses to sign anything until
``DJANGO_SECRET_KEY`` is set). Which modules exist and who uses them:

- ``bizops.settings.local``: ``make run`` and ``make dev``; a secret key of this checkout's own under
  ``var/``, links on the port the app listens on, debug only when ``DJANGO_DEBUG=true`` (``make dev``);
- ``bizops.settings.production``: a real deployment (wsgi.py and asgi.py default to it);
- ``bizops.settings.test``: the test suite.

The services default to what needs nothing installed: SQLite and a file-based Celery broker under
``var/``, emails printed to the console (and always kept in the in-app outbox). ``DATABASE_URL``,
``REDIS_URL`` and ``EMAIL_URL`` switch to PostgreSQL, Redis and SMTP.
"""

import socket
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

from bizops.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("BIZOPS_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# No default: an empty key makes Django refuse to sign sessions, tokens and links. bizops.settings.local
# keeps a key of the checkout's own; a deployment sets DJANGO_SECRET_KEY.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])


def site_url(*, host: str, port: int) -> str:
    """The address emailed links start with when ``BIZOPS_SITE_URL`` does not name one: the host and port
    the web server listens on. A server listening on every interface is reached by the machine's name."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = socket.gethostname()
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}:{port}"


# The web server's address (the Procfile binds gunicorn to it). BIZOPS_PORT, when set, wins over PORT:
# honcho (make run) gives each process of the Procfile its own PORT, and the worker's emails must link
# to the web process's.
BIZOPS_HOST = env.str("BIZOPS_HOST", default="127.0.0.1")
BIZOPS_PORT = env.int("BIZOPS_PORT", default=env.int("PORT", default=8000))
SITE_URL = env.str("BIZOPS_SITE_URL", default="").rstrip("/") or site_url(host=BIZOPS_HOST, port=BIZOPS_PORT)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "axes",
    "csp",
    "bizops",
    "planning",
    "metrics",
]

MIDDLEWARE = [
    # First: every response, even a refusal from the middleware below, gets a request id and a log line.
    "bizops.middleware.RequestIdMiddleware",
    # Before host validation and the HTTPS redirect, which would refuse a probe that calls the container.
    "bizops.middleware.HealthCheckMiddleware",
    # Before anything that could read a request's body: an API body over the limit is a JSON 413.
    "bizops.middleware.ApiBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "bizops.middleware.SessionRefreshMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "bizops.middleware.DomainConflictMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bizops.urls"
WSGI_APPLICATION = "bizops.wsgi.application"
ASGI_APPLICATION = "bizops.asgi.application"

TEMPLATES = [
    {
        # Django's, less a reference cycle per page (bizops/template_backend.py). NAME keeps the alias
        # "django", which template_partials looks for to add its loader.
        "BACKEND": "bizops.template_backend.DjangoTemplates",
        "NAME": "django",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bizops.context_processors.organization",
            ],
            # Our components (badge, progress...) without {% load %}; none takes a name of Django's own
            # tags or filters. No "loaders": Django's default is the cached loader over these DIRS and
            # the apps' templates, in development too.
            "builtins": ["template_partials.templatetags.partials", "bizops.templatetags.ui"],
        },
    }
]

# --- Database -------------------------------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if "postgresql" in DATABASES["default"]["ENGINE"]:
        # Fail fast (and let /readyz say so) rather than hang a worker when the database is unreachable.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
        # Prepared statements: a query a connection has run twice is planned once and kept, which halved
        # PostgreSQL's CPU per request under the bench's mixed load (bench/README.md). They need the
        # parameters bound by the server. A pooler in transaction mode cannot keep them (PgBouncer
        # 1.21 and later can, with max_prepared_statements set): DATABASE_PREPARED_STATEMENTS=false.
        if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
            options.setdefault("server_side_binding", True)
            options.setdefault("prepare_threshold", 2)
            # Bound by the server, a statement takes at most 65,535 parameters. Django 5.2 sends bulk
            # inserts as arrays (UNNEST), a parameter per column (tests/bizops/test_database.py), and
            # no query here lists that many ids.
else:
    # SQLite beside a Celery worker: WAL, a busy timeout and immediate write transactions, or the
    # web process and the worker trip over "database is locked" (see SETUP-NOTES).
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "bizops.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# bizops.compiled: the queries every request runs, compiled once per process on Django's private
# internals (measured in bench/README.md). False runs them through the ORM like any other query.
BIZOPS_COMPILED_QUERIES = env.bool(
    "BIZOPS_COMPILED_QUERIES", default="postgresql" in DATABASES["default"]["ENGINE"]
)
# bizops.templatetags.ui.fast_date: dates in the rows tag modules draw in Python, formatted without
# Django's date filter (measured in bench/README.md). False uses Django's filter.
BIZOPS_FAST_DATES = env.bool("BIZOPS_FAST_DATES", default=True)

# --- Cache ------------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # Sessions are read from Redis and written through to the database. Not with the per-process
    # memory cache: another process would keep serving a session this one logged out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "bizops.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "bizops.backends.ModelBackend",  # Django's, with the per-request user lookup compiled once
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Validates nothing: a saved new password rotates User.security_stamp through its password_changed
    # hook, whatever saved it (profile, reset link, admin), ending other sessions, API tokens and links.
    {"NAME": "bizops.account_security.RotateStampOnPasswordChange"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
# The expiry counts from the last activity, not from login: bizops.middleware.SessionRefreshMiddleware
# saves a used session again once its last save is this old (instead of SESSION_SAVE_EVERY_REQUEST).
SESSION_REFRESH_SECONDS = env.int("SESSION_REFRESH_SECONDS", default=300)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Content-Security-Policy (django-csp 4), in every environment so tests and local runs see what production
# sends. No inline script anywhere: htmx and app.js are static files. Inline styles are allowed because the
# templates set progress bars' widths with style attributes and htmx 2 injects its indicator <style>.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    },
}

# Request size: the largest body (form or JSON) Django reads into memory, and the size above which an
# uploaded file is streamed to a temporary file instead of being held in memory. The proxy in front should
# cap request bodies too (e.g. nginx's client_max_body_size).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)  # 2.5 MiB
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=5_242_880)  # 5 MiB

# The client's address (log-in lockout, password reset limits, the API's anonymous rate limit): the
# socket's, unless this many reverse proxies of ours stand in front, each appending to X-Forwarded-For.
# 0 (the default) never reads that header, which any client can set. bizops.lockout.client_ip.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Lockout after repeated failed log-ins (django-axes, bizops/lockout.py), within the cool-off: an account
# after AXES_FAILURE_LIMIT failures from any addresses, an address after LOGIN_ADDRESS_FAILURE_LIMIT
# failures against any accounts (higher: one office address is many people). A locked account's owner
# is emailed. Every locked attempt gets the same page, whether its password was right or not.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own, not the pair
AXES_USERNAME_FORM_FIELD = "username"  # what the log-in forms (ours and the admin's) post the email as
AXES_USERNAME_CALLABLE = "bizops.lockout.lockout_username"  # the email, lowercased
AXES_CLIENT_IP_CALLABLE = "bizops.lockout.client_ip"
AXES_HANDLER = "bizops.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "bizops.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True  # the account's failures only (LockoutHandler.reset_user_attempts)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429  # axes' default, named: bizops.lockout.lockout_response reads it
AXES_VERBOSE = False

# Password reset emails (bizops.forms.ThrottledPasswordResetForm), counted per hour in the cache.
PASSWORD_RESET_EMAILS_PER_ACCOUNT = env.int("PASSWORD_RESET_EMAILS_PER_ACCOUNT", default=3)
PASSWORD_RESET_REQUESTS_PER_ADDRESS = env.int("PASSWORD_RESET_REQUESTS_PER_ADDRESS", default=10)

INVITATION_MAX_AGE = timedelta(days=env.int("INVITATION_MAX_AGE_DAYS", default=7))

# --- I18N -------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Email ------------------------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="BizOps Planner <planner@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 20

# --- Celery -----------------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, str | int | bool] = {"visibility_timeout": 3600}
else:
    # The embedded default: kombu's filesystem transport, one folder for in and out (SETUP-NOTES).
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Celery's Django fixup closes the database connection around every task unless told to reuse it.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The worker and beat log through LOGGING below (JSON in production) instead of replacing its handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # One dispatcher finds what is due; there is never a beat entry per person.
    "dispatch-reminders": {
        "task": "metrics.tasks.dispatch_reminders",
        "schedule": crontab(minute="*/2"),
    },
    # Every minute: an email whose worker died goes out again within a minute of its 30 s grace, and
    # one left ``sending`` is called unknown (bizops.emails). Two beats at once take different rows.
    "deliver-pending-emails": {
        "task": "bizops.tasks.deliver_pending_emails",
        "schedule": crontab(minute="*"),
    },
    # An approved plan becomes active on its first day. Hourly, as organizations' days begin at their
    # own time zone's midnight; each run activates only what began (planning.tasks).
    "activate-begun-plans": {
        "task": "planning.tasks.activate_begun_plans",
        "schedule": crontab(minute=5),
    },
    # Progress history: hourly, as each organization's day ends at its own midnight; each run records
    # only the days that ended and are not recorded yet (metrics.services.history).
    "snapshot-progress": {
        "task": "metrics.tasks.snapshot_progress",
        "schedule": crontab(minute=15),
    },
}

# --- REST framework ---------------------------------------------------------------------------------
# Browsers use their session; scripts send a personal API token (``Authorization: Bearer bzp_…``, made
# on the profile page, bound to one organization: bizops/authentication.py). The token class comes first
# so that a bad token answers 401 with a Bearer challenge; without any credentials it is still 403.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "bizops.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Per token, per user for session callers (bizops.api.ApiRateThrottle); 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": ["bizops.api.ApiRateThrottle"],
    # An anonymous caller's address, as bizops.lockout.client_ip takes it: without this DRF reads
    # X-Forwarded-For whole, as the client sent it.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    # Bodies are JSON, as the schema documents them (the CSV import sets its own multipart parser): a
    # form-encoded body could not carry null, numbers or lists, and is 415.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "bizops.api.ApiPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "bizops.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "BizOps Planner API",
    "DESCRIPTION": (
        "Plans, goal trees, approvals, KPIs and check-ins, scoped to an organization.\n\n"
        "**Authentication.** Scripts send a personal API token, made on the profile page: "
        "`Authorization: Bearer bzp_…`. A token acts as its user, with their role, in the one organization "
        "it was made for: any other organization's URLs answer 404. A bad, revoked or expired token is "
        "401 (`InvalidToken`). Browsers use their session.\n\n"
        "**Rate limit.** Each token (or logged-in user) may make a set number of requests a minute; past "
        "it, 429 with Retry-After (`TooManyRequests`).\n\n"
        "**Concurrency.** Detail responses carry an ETag. PATCH and DELETE honour If-Match (412 when "
        "stale); deleting or moving a milestone, objective or step requires it (428 without).\n\n"
        "**Limits.** A request body is at most 2.5 MB: a larger one is 413 (`RequestTooLarge`). Bodies "
        "refuse fields they do not know. `limit` reads at most 500 results a page; a larger `limit` is "
        "read as 500. Query parameters that are not documented are ignored."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The enums' hook (drf-spectacular's default), then request bodies that say they refuse unknown fields.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "planning.api.common.strict_request_bodies",
    ],
    # Swagger UI from the sidecar package's static files: nothing is loaded from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # What every operation may answer besides its own statuses, said once (the operations list theirs).
    "APPEND_COMPONENTS": {
        "responses": {
            "InvalidToken": {
                "description": "401: the bearer token is not valid, was revoked or has expired "
                '(`WWW-Authenticate: Bearer error="invalid_token"`).',
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
            "RequestTooLarge": {
                "description": "413: the request body is larger than the limit (2.5 MB by default, "
                "`DATA_UPLOAD_MAX_MEMORY_SIZE`); nothing was read (`code`: `request_too_large`).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
            "TooManyRequests": {
                "description": "429: over API_RATE for this token (or user); Retry-After says how many "
                "seconds to wait.",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        }
    },
}
# Requests a token (or a logged-in user) may make, counted in the cache: "<number>/<s|min|hour|day>".
# Empty turns the limit off.
API_RATE = env.str("API_RATE", default="600/min")

# --- Logging ----------------------------------------------------------------------------------------
# Every line carries the request id (bizops.middleware.RequestIdMiddleware); LOG_FORMAT=json writes one
# JSON object a line for a log collector (the default in production), plain is for reading in a terminal.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

# Webhooks may call private or loopback addresses only when allowed (local development, tests).
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)
