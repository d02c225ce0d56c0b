"""The organization's search page: one box, results grouped by kind (``bizops.search``)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from .. import search as search_
from ..access import org_view
from ..requests import OrgRequest

PER_KIND = 8  # hits per group on the page; a group's "more" opens that kind alone
ONE_KIND = 50  # hits when one kind is asked for


@org_view("org_view")
def search(request: OrgRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    terms = search_.Terms.parse(text)
    kinds = search_.sources(lambda action: request.can[action])
    kind = request.GET.get("kind", "")
    if kind not in {s.kind for s in kinds}:
        kind = ""
    groups = search_.search(
        request.org,
        terms,
        can=lambda action: request.can[action],
        kind=kind,
        limit=ONE_KIND if kind else PER_KIND,
    )
    context = {
        "q": text[:200],
        "terms": terms,
        "kind": kind,
        "kind_label": next((s.label for s in kinds if s.kind == kind), ""),
        "groups": groups,
        "total": sum(len(g.hits) for g in groups),
    }
    return render(request, "bizops/search.html", context)
