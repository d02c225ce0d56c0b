"""Production settings: everything secret or site-specific comes from the environment, nothing defaults."""

from bizops.logging import logging_config

from . import *  # noqa: F403
from . import LOG_LEVEL, env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
WHITENOISE_USE_FINDERS = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)

# One JSON object a log line, with the request id, for the log collector; LOG_FORMAT=plain to read by eye.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
