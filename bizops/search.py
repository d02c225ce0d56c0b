"""Search across one organization: what a query means, how rows are matched and ranked, and the
sources each app registers.

A query is cut into **terms**: runs of letters and digits (anything else, operators, quotes and
punctuation included, only separates them), at most ``MAX_TERMS`` of at most ``MAX_TERM_CHARS``
characters each. A row matches when every term begins one of its words, in any of its searched
fields: "reach lead" finds "Reach out to leads daily". A one-letter term is a whole word: as a
beginning it would match nearly everything (and the search page searches as one types). So a query is never a syntax error, whatever
it holds: 10,000 characters, ``&|!():*'"``, or a script.

On PostgreSQL the match is full-text search (``django.contrib.postgres.search``) with the ``simple``
configuration (no stemming, no stop words: plans are written in any language) and a prefix query,
over a GIN index on the same expression that each app's migration creates (``search_index``), so
the database keeps it current on every write, bulk ones included. The title weighs more than the
text (``A`` before ``B``) in ``ts_rank``. Elsewhere (the SQLite default of ``make run``) every term
is looked for with ``icontains`` in the same fields, and a title match ranks first.

The core knows no planning or metrics model: each app registers its **sources** (``register_source``)
from its ``AppConfig.ready``, as it does its navigation; the core searches people itself.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections
from django.db.models import Case, FloatField, Model, Q, QuerySet, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from .models import Organization

CONFIG = "simple"
MAX_TERMS = 8
MAX_TERM_CHARS = 40
# Letters and digits of any script; the underscore separates, as it does for PostgreSQL's parser.
_WORD = re.compile(r"[^\W_]+")
# A query longer than this is cut before it is split: the terms come from its start anyway.
_MAX_QUERY_CHARS = 1000

M = TypeVar("M", bound=Model)
# A searched field and its weight ("A" counts most): ``(("title", "A"), ("notes", "B"))``.
Fields = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Terms:
    """The words of a query, lower-cased, each once, in the order typed."""

    words: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: object) -> Terms:
        if not isinstance(text, str):
            return cls()
        words: list[str] = []
        for match in _WORD.finditer(text[:_MAX_QUERY_CHARS]):
            word = match.group().lower()[:MAX_TERM_CHARS]
            if word not in words:
                words.append(word)
            if len(words) == MAX_TERMS:
                break
        return cls(tuple(words))

    def __bool__(self) -> bool:
        return bool(self.words)

    def __str__(self) -> str:
        return " ".join(self.words)

    def tsquery(self) -> SearchQuery:
        """Every term as a word's beginning, a one-letter term as a whole word: ``'reach':* & 'a'``. Terms hold letters and digits
        only, so quoting them is enough for ``to_tsquery`` to take them as lexemes, never operators."""
        raw = " & ".join(f"'{word}':*" if len(word) > 1 else f"'{word}'" for word in self.words)
        return SearchQuery(raw, search_type="raw", config=CONFIG)


def search_vector(fields: Fields) -> Any:
    """The document of a row: its fields, each with its weight, as ``to_tsvector`` sees them."""
    vectors = [SearchVector(name, weight=weight, config=CONFIG) for name, weight in fields]
    return reduce(operator.add, vectors)


def search_index(name: str, fields: Fields) -> GinIndex:
    """The GIN index on ``search_vector(fields)``: a migration adds it on PostgreSQL only
    (``add_search_index``), and ``matching`` filters on exactly that expression, so it is used."""
    return GinIndex(search_vector(fields), name=name)


def add_search_index(model: type[Model], name: str, fields: Fields, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(model, search_index(name, fields))


def remove_search_index(model: type[Model], name: str, fields: Fields, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(model, search_index(name, fields))


def matching(queryset: QuerySet[M], fields: Fields, terms: Terms) -> QuerySet[M]:
    """The rows of ``queryset`` holding every term, annotated with ``search_rank`` (higher is better).
    Nothing matches an empty query."""
    if not terms:
        return queryset.annotate(search_rank=Value(0.0, output_field=FloatField())).none()
    if connections[queryset.db].vendor == "postgresql":
        vector = search_vector(fields)
        query = terms.tsquery()
        return (
            queryset.alias(search_document=vector)
            .filter(search_document=query)
            .annotate(search_rank=SearchRank(vector, query))
        )
    condition = Q()
    for word in terms.words:
        condition &= reduce(operator.or_, (_contains(name, word) for name, _ in fields))
    title = fields[0][0]
    in_title = reduce(operator.and_, (_contains(title, word) for word in terms.words))
    return queryset.filter(condition).annotate(
        search_rank=Case(When(in_title, then=Value(1.0)), default=Value(0.5), output_field=FloatField())
    )


def _contains(name: str, word: str) -> Q:
    # A one-letter term is a whole word (Django gives SQLite a REGEXP function: Python's ``re``).
    if len(word) == 1:
        return Q(**{f"{name}__iregex": rf"(?<![^\W_]){re.escape(word)}(?![^\W_])"})
    return Q(**{f"{name}__icontains": word})


def ranked(queryset: QuerySet[M]) -> QuerySet[M]:
    """``matching``'s rows, best first (newest first among equals)."""
    return queryset.order_by("-search_rank", "-pk")


def top(
    queryset: QuerySet[M], fields: Fields, terms: Terms, limit: int, *values: str
) -> list[dict[str, Any]]:
    """The best ``limit`` rows of ``queryset`` holding the terms, as ``values`` and ``search_rank``:
    what a source's ``find`` reads (one query)."""
    return list(ranked(matching(queryset, fields, terms)).values("pk", *values, "search_rank")[:limit])


def _pattern(terms: Terms) -> re.Pattern[str]:
    words = sorted(terms.words, key=len, reverse=True)
    alternatives = [re.escape(w) + (r"[^\W_]*" if len(w) > 1 else r"(?![^\W_])") for w in words]
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


def mentions(text: str, terms: Terms) -> bool:
    """A word of ``text`` begins with one of the terms (what ``highlight`` marks)."""
    return bool(text and terms and _pattern(terms).search(text))


def excerpt(terms: Terms, *texts: str, around: int = 160) -> SafeString:
    """The first of ``texts`` that mentions a term (else the first not empty), highlighted, cut to
    about ``around`` characters: a hit's excerpt when its title alone did not match."""
    chosen = next((t for t in texts if mentions(t, terms)), None) or next((t for t in texts if t), "")
    return highlight(chosen, terms, around=around)


def highlight(text: str, terms: Terms, *, around: int | None = None) -> SafeString:
    """``text`` escaped, with the words the terms begin in ``<mark>``. With ``around``, only about that
    many characters around the first match (with "…" where it was cut)."""
    if not text:
        return SafeString("")
    if not terms:
        return SafeString(escape(text))
    pattern = _pattern(terms)
    if around is not None and len(text) > around:
        first = pattern.search(text)
        start = max(0, (first.start() if first else 0) - around // 3)
        end = min(len(text), start + around)
        text = ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
    parts: list[str] = []
    last = 0
    for found in pattern.finditer(text):
        parts.append(escape(text[last : found.start()]))
        parts.append(f"<mark>{escape(found.group())}</mark>")
        last = found.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))


# --- Sources and results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One result: its title and an excerpt of its text with the matched words marked, where it is."""

    name: str  # the title as typed
    title: SafeString  # the title, escaped, with the matched words marked
    url: str
    context: str = ""  # where it sits: "Plan · Objective"
    excerpt: SafeString = field(default_factory=lambda: SafeString(""))
    rank: float = 0.0


@dataclass(frozen=True)
class Source:
    """A kind of thing to search, registered by the app that owns it. ``find`` returns up to ``limit``
    hits of the organization, best first, in a fixed number of queries."""

    kind: str  # "step": the API's and the page's ``kind``
    label: str  # "Action steps"
    order: int
    find: Callable[[Organization, Terms, int], list[Hit]]
    permission: str | None = None  # a role action (``bizops.roles``) the searcher needs


@dataclass(frozen=True)
class Group:
    source: Source
    hits: list[Hit]
    more: bool  # there are more than the hits shown


_sources: dict[str, Source] = {}


def register_source(source: Source) -> None:
    """Add (or replace, by kind) a source; registering twice is harmless."""
    _sources[source.kind] = source


def sources(can: Callable[[str], bool]) -> list[Source]:
    """The sources this searcher may search, in order."""
    return sorted(
        (s for s in _sources.values() if s.permission is None or can(s.permission)),
        key=lambda s: (s.order, s.kind),
    )


def search(
    organization: Organization,
    terms: Terms,
    *,
    can: Callable[[str], bool],
    kind: str = "",
    limit: int = 8,
) -> list[Group]:
    """The groups with hits, in the sources' order: one query per source, none for an empty query."""
    if not terms:
        return []
    groups = []
    for source in sources(can):
        if kind and source.kind != kind:
            continue
        hits = source.find(organization, terms, limit + 1)
        if hits:
            groups.append(Group(source=source, hits=hits[:limit], more=len(hits) > limit))
    return groups


# --- People: the core's own source ------------------------------------------------------------------


def _find_people(organization: Organization, terms: Terms, limit: int) -> list[Hit]:
    # Names and addresses are short and few (one row per member): ``icontains`` on both backends, which
    # also finds a part of an address ("acme" in "ana@acme.example").
    from django.urls import reverse

    from .models import Membership
    from .roles import Role

    condition = Q()
    for word in terms.words:
        condition &= Q(user__display_name__icontains=word) | Q(user__email__icontains=word)
    rows = (
        Membership.objects.filter(organization=organization)
        .filter(condition)
        .order_by("user__display_name", "pk")
        .values("pk", "role", "user__display_name", "user__email")[:limit]
    )
    members = reverse("member_list", args=[organization.slug])
    return [
        Hit(
            name=row["user__display_name"] or row["user__email"],
            title=highlight(row["user__display_name"] or row["user__email"], terms),
            url=f"{members}#member-{row['pk']}",
            context=Role(row["role"]).label,
            excerpt=highlight(row["user__email"], terms),
        )
        for row in rows
    ]


register_source(Source(kind="person", label="People", order=90, find=_find_people))
