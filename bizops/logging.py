"""Log records that carry the request id, and a JSON formatter for production.

``bizops.middleware.RequestIdMiddleware`` puts the request's id in ``request_id_var`` for the time the
request runs; ``RequestIdFilter``, attached to the handlers in ``settings.LOGGING``, copies it onto every
record, whichever logger wrote it (Django's, a library's or ours). Outside a request it is ``-``.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

NO_REQUEST = "-"

request_id_var: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)

# The attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged as a
# field, except Django's ``request`` object (its method and path are in the access-log line).
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", logging.INFO, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName", "request"}
)


class RequestIdFilter(logging.Filter):
    """Give every record the id of the request it was written in (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id == NO_REQUEST:
            # Django logs a 4xx/5xx response ("Not Found: /x") after the middleware has returned, so
            # outside the context variable; the record carries the request itself.
            request_id = getattr(getattr(record, "request", None), "request_id", NO_REQUEST)
        record.request_id = request_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request id, extras, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(*, log_format: str, level: str) -> dict:
    """``settings.LOGGING``: everything to the console, as ``plain`` text or ``json``."""
    if log_format not in ("plain", "json"):
        raise ValueError(f"LOG_FORMAT must be 'plain' or 'json', not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "bizops.logging.RequestIdFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {"()": "bizops.logging.JsonFormatter"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own console handler (DEBUG only) would print its records a second time, unformatted.
            "django": {"handlers": [], "level": level, "propagate": True},
            "axes": {"level": "ERROR"},
        },
    }
