"""The organization's search through the API: the page's groups, as JSON (``bizops.search``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from . import search
from .rest import ERROR_400, READ_ERRORS, OrgApi
from .roles import can


def search_filter(what: str) -> serializers.CharField:
    """The ``q`` of a list endpoint: only the rows holding every word, best match first."""
    return serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=f"Only {what} holding every word of this text (or a word beginning with it), best match "
        "first. Punctuation and operators only separate words; a text without letters or digits finds nothing.",
    )


class SearchFilterSerializer(serializers.Serializer):
    q = serializers.CharField(
        allow_blank=True,
        trim_whitespace=True,
        help_text="Words to find. Each must begin a word of the thing found; punctuation and operators only "
        f"separate words. The first {search.MAX_TERMS} words count, each up to {search.MAX_TERM_CHARS} "
        "characters.",
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=50, default=10, help_text="Hits per kind, at most 50."
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # The kinds are what the apps registered (``bizops.search.register_source``), known once they are ready.
        fields["kind"] = serializers.ChoiceField(
            choices=[(source.kind, source.label) for source in search.sources(lambda action: True)],
            required=False,
            help_text="Only this kind.",
        )
        return fields

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(sorted(unknown), "Unknown parameter."))
        return data


class SearchHitSerializer(serializers.Serializer):
    title = serializers.CharField(source="name", help_text="The title (a comment's first words), as typed.")
    title_html = serializers.CharField(
        source="title", help_text="The title, HTML-escaped, with the matched words in `<mark>`."
    )
    excerpt_html = serializers.CharField(
        source="excerpt",
        help_text="Some of its text around the first match, escaped and marked; may be empty.",
    )
    # A field named like the serializer's own ``context`` (the metaclass takes declared fields off the class).
    context = serializers.CharField(help_text="Where it is: its plan, objective, or a person's role.")  # type: ignore[assignment]
    url = serializers.CharField(help_text="Its page in the app (a path).")
    rank = serializers.FloatField(help_text="Higher is a better match (within its kind).")


class SearchGroupSerializer(serializers.Serializer):
    kind = serializers.CharField(source="source.kind")
    label = serializers.CharField(source="source.label")  # type: ignore[assignment]  # as ``context`` above
    more = serializers.BooleanField(help_text="There are more hits than `limit`.")
    hits = SearchHitSerializer(many=True)


class SearchResultSerializer(serializers.Serializer):
    q = serializers.CharField(help_text="The query as received.")
    terms = serializers.ListField(child=serializers.CharField(), help_text="The words searched for.")
    results = SearchGroupSerializer(many=True, help_text="Kinds with hits, in a fixed order; empty for none.")


class SearchApi(OrgApi):
    @extend_schema(
        operation_id="search",
        summary="Search the organization",
        description="Plans, milestones, objectives, action steps, key results, KPIs, comments and people "
        "of this organization holding every word of `q` (or a word beginning with it), grouped by kind, "
        "best match first. Any text is a query: one with no letters or digits finds nothing.",
        tags=["Search"],
        parameters=[SearchFilterSerializer],
        responses={200: SearchResultSerializer, 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request: Request, org_slug: str) -> Response:
        params = self.validated(SearchFilterSerializer, request.query_params.dict())
        terms = search.Terms.parse(params["q"])
        groups = search.search(
            self.organization,
            terms,
            can=lambda action: can(self.membership.role, action),
            kind=params.get("kind", ""),
            limit=params["limit"],
        )
        data = {"q": params["q"], "terms": list(terms.words), "results": groups}
        return Response(SearchResultSerializer(data).data)
