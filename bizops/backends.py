"""The authentication backend: Django's ``ModelBackend``, with the per-request user lookup compiled.

Every signed-in request loads its user (``django.contrib.auth.get_user`` calls ``get_user``), which
the ORM builds and compiles anew each time; ``bizops.compiled`` does it once per process. Everything
else (passwords, permissions, ``is_active``, the session hash check) is Django's.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from .compiled import CompiledQuery

_USER = CompiledQuery(lambda pk: get_user_model()._default_manager.filter(pk=pk))


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id):
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        found = _USER(pk=pk)
        if not found:
            return None
        user = found[0]
        return user if self.user_can_authenticate(user) else None
