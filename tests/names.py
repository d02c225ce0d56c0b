"""URL names for tests that build them from parts ("api_{kind}_detail") or loop over them: the bare
name qualified with its app's namespace (``planning:``, ``metrics:``, ``planning_api:``,
``metrics_api:``), read off the URLconf; core names and names already qualified pass through."""

from __future__ import annotations

from functools import cache

from django.urls import URLResolver, get_resolver


@cache
def _namespaces() -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(resolver: URLResolver, namespace: str | None) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern, pattern.namespace or namespace)
            elif pattern.name and namespace and namespace != "admin":
                found[pattern.name] = namespace

    walk(get_resolver(), None)
    return found


def qualified(name: str) -> str:
    if ":" in name:
        return name
    namespace = _namespaces().get(name)
    return f"{namespace}:{name}" if namespace else name
