"""Querysets compiled to SQL once, for the few queries every request runs.

The ORM builds and compiles each query anew. For the membership lookup that every organization page
and API call makes, that is ~0.3 ms of Python a request, more than PostgreSQL spends answering it. A
``CompiledQuery`` builds its queryset once per connection with placeholder values, keeps the SQL and
the compiler's description of the rows, and from then on only substitutes the call's values and turns
rows into instances the way ``QuerySet`` does (``Model.from_db``, ``select_related`` populators,
annotations, the backend's converters).

Only for fixed shapes: each named parameter must reach the SQL unchanged, as one parameter (``pk=``,
``user_id=``, ``slug=``; not ``__contains``, not ``__in``). A placeholder that does not turns up
exactly once among the parameters is an error on the first call, not a wrong query. Everything else
in the queryset is frozen at the first call: never build one from the clock (``timezone.now()``), a
setting or anything else that changes, only from its parameters.
``tests/bizops/test_compiled.py`` checks the results against the same querysets run by the ORM.

The one shortcut on Django's private internals that the project keeps (``_iterable_class``,
``get_related_populators``, the compiler's ``klass_info``): measured on the mixed load
(``bench/README.md``) it saves about a quarter of a web worker's CPU per request. It can be turned
off: with ``settings.BIZOPS_COMPILED_QUERIES`` false, every ``CompiledQuery`` simply runs its queryset
through the ORM. It is on by default on PostgreSQL only; the test suite runs with it on (PostgreSQL)
and off (SQLite). Check it against each new Django version (e.g. 6.1's fetch modes, which it would
ignore), or turn it off.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators  # type: ignore[attr-defined]  # private; not in django-stubs
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)


class CompiledQuery(Generic[M]):
    """``CompiledQuery(lambda user_id: Membership.objects.filter(user_id=user_id)...)``, then
    ``query(user_id=7)``: the list of instances the queryset would give for ``user_id=7``.

    ``build`` names its parameters as its arguments. They are integers (ids), except those listed in
    ``text`` (``text=("slug",)``).
    """

    def __init__(self, build: Callable[..., QuerySet[M]], text: tuple[str, ...] = ()) -> None:
        self.build = build
        self.text = text
        self._compiled: dict[str, _Plan[M]] = {}  # per database alias; the same for every connection

    def __call__(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[M]:
        if not settings.BIZOPS_COMPILED_QUERIES:
            return list(self.build(**values).using(using))
        plan = self._compiled.get(using)
        if plan is None:  # two threads may both compile the first time: the same plan either way
            plan = self._compiled[using] = _Plan(self.build, self.text, using)
        return plan.run(connections[using], values)


class _Plan(Generic[M]):
    """What running the query needs, taken from its compiler: nothing that belongs to a connection."""

    def __init__(self, build: Callable[..., QuerySet[M]], text: tuple[str, ...], using: str) -> None:
        names = inspect.signature(build).parameters
        # Values no real call passes: an id far below any sequence's, a string no slug can hold.
        placeholders = {
            name: f"\x00compiled-{index}\x00" if name in text else -(2**62) - index
            for index, name in enumerate(names)
        }
        queryset = build(**placeholders)
        if queryset._iterable_class is not ModelIterable or queryset._prefetch_related_lookups:  # type: ignore[attr-defined]  # private; not in django-stubs
            raise TypeError("CompiledQuery runs querysets of model instances, without prefetches")
        self.locks = bool(queryset.query.select_for_update)
        compiler = queryset.query.get_compiler(using=using)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.slots: list[tuple[int, str]] = []
        for name, placeholder in placeholders.items():
            where = [
                i for i, p in enumerate(self.params) if type(p) is type(placeholder) and p == placeholder
            ]
            if len(where) != 1:
                raise ValueError(f"parameter {name!r} is not one plain value in the compiled query")
            self.slots.append((where[0], name))
        self.db = using
        select, klass_info = compiler.select, compiler.klass_info
        self.converters = list(compiler.get_converters([s[0] for s in select[: compiler.col_count]]).items())
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.related = get_related_populators(klass_info, select, using)
        self.annotations = list(compiler.annotation_col_map.items())

    def run(self, connection, values: dict[str, Any]) -> list[M]:
        if self.locks and connection.get_autocommit():
            # Django checks this while compiling; compiled once, the check is made here on every call.
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(self.params)
        for position, name in self.slots:
            params[position] = values[name]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        objects: list[M] = []
        for row in rows:
            if self.converters:  # as ``SQLCompiler.apply_converters``: JSON, and most types on SQLite
                row = list(row)
                for position, (converters, expression) in self.converters:
                    value = row[position]
                    for converter in converters:
                        value = converter(value, expression, connection)
                    row[position] = value
            obj = self.model.from_db(self.db, self.init_list, row[self.start : self.end])
            for populator in self.related:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects
