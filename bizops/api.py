"""API plumbing shared by every app: one error body for every status, domain errors mapped to statuses."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import Conflict


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn every error into ``{"detail": ..., "code": ..., "fields": {...}}``.

    Services raise Django's ValidationError (400, with field messages) and ``Conflict`` (409); views
    never translate them one by one.
    """
    if isinstance(exc, DjangoValidationError):
        fields = dict(exc.message_dict) if hasattr(exc, "error_dict") else {}
        general = fields.pop("__all__", None)
        if general:
            fields["non_field_errors"] = general
        if fields.keys() == {"non_field_errors"}:
            detail = " ".join(general)
        else:
            detail = "Some fields are not valid." if fields else " ".join(exc.messages)
        body = {"detail": detail, "code": "invalid", "fields": fields}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        body = {"detail": exc.message, "code": "conflict", "fields": {}}
        if exc.current_version is not None:
            body["current_version"] = exc.current_version
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"detail": "Some fields are not valid.", "code": "invalid", "fields": fields}
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else str(data)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": code, "fields": {}}
    return response
