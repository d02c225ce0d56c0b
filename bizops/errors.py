"""Domain errors raised by services. Views show them in the page; the API maps them to statuses."""

from django.core.exceptions import ValidationError

__all__ = ["Conflict", "ValidationError", "error_message"]


class Conflict(Exception):
    """The action is not allowed in the object's current state (HTTP 409)."""

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.current_version = current_version


def error_message(exc: Exception) -> str:
    """A domain error as one sentence for a page's message banner."""
    if isinstance(exc, Conflict):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)
