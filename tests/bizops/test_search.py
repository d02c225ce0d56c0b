"""The organization's search (``bizops.search``): one box for plans, their nodes, key results, KPIs,
comments and people; ranked, highlighted, grouped by kind; another organization's content never
shows; any text is a query, never a 500. The same search through the API and ``?q=`` on its lists."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from bizops.search import MAX_TERM_CHARS, MAX_TERMS, Terms, highlight, sources
from metrics import search as metrics_search
from metrics import services as metrics_services
from metrics.models import KPI, KeyResult
from planning import search as planning_search
from planning import services as planning_services
from planning.models import ActionStep, Comment, Milestone, Objective, Plan
from tests.factories import make_plan
from tests.planning.factories import api_client

pytestmark = pytest.mark.django_db

HOSTILE = [
    "'",
    '"',
    "&|!():*",
    "outreach:*",
    "'outreach':* | 'x'",
    "!outreach",
    "a & b | !c <-> d",
    "\\",
    "%_%",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "日本語 計画",
    "Ünïcödé ßtraße",
    "🚀🚀",
    "x" * 10_000,
    "word " * 2_000,
    "-outreach",
    "(((((",
    "\u202e\u200b",
]


def _search(client, slug, q, **params):
    return client.get(reverse("search", args=[slug]), {"q": q, **params})


@pytest.fixture
def notes_step(acme, plan, tree):
    """The founding story's step, with a word only its notes hold."""
    step = tree[2]
    ActionStep.objects.filter(pk=step.pk).update(notes="Use the Lighthouse list of agencies first.")
    return step


# --- What a query means ------------------------------------------------------------------------------


def test_a_query_is_its_words_whatever_else_it_holds():
    assert Terms.parse("Reach out, to LEADS!").words == ("reach", "out", "to", "leads")
    assert Terms.parse("'a':* & b | !c").words == ("a", "b", "c")
    assert Terms.parse("snake_case e-mail").words == ("snake", "case", "e", "mail")
    assert Terms.parse("Straße 日本語").words == ("straße", "日本語")
    assert Terms.parse("lead lead LEAD").words == ("lead",)
    assert not Terms.parse("&|!():*'\" 🚀 \x00")
    assert not Terms.parse(None)
    many = Terms.parse(" ".join(f"w{i}" for i in range(50)))
    assert len(many.words) == MAX_TERMS
    assert Terms.parse("x" * 10_000).words == ("x" * MAX_TERM_CHARS,)


def test_a_one_letter_term_is_a_whole_word(clients, acme, plan, tree):
    """As a beginning, one letter would match nearly everything (and the page searches as one types)."""
    _, _, step = tree
    ActionStep.objects.filter(pk=step.pk).update(notes="Plan B if the list runs dry")
    html = _search(clients["member"], "acme", "b").content.decode()
    assert "Reach out to leads" in html and "<mark>B</mark>" in html
    assert "Build a pipeline" not in html  # "b" begins "Build" but is not a word of it
    assert highlight("a b c abc", Terms.parse("b")) == "a <mark>b</mark> c abc"


def test_highlight_marks_word_beginnings_and_escapes_everything_else():
    terms = Terms.parse("lead")
    assert (
        highlight("<b>Leads</b> & misleading", terms)
        == "&lt;b&gt;<mark>Leads</mark>&lt;/b&gt; &amp; misleading"
    )
    cut = highlight("a " * 200 + "the lead is here" + " b" * 200, terms, around=60)
    assert "<mark>lead</mark>" in cut and cut.startswith("…") and cut.endswith("…") and len(cut) < 120


# --- The page ----------------------------------------------------------------------------------------


def test_a_step_is_found_by_a_word_of_its_notes_with_the_word_marked(clients, acme, notes_step):
    response = _search(clients["member"], "acme", "lighthouse")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Action steps" in html
    assert "Reach out to leads" in html
    assert "<mark>Lighthouse</mark>" in html
    step_url = reverse("planning:node_detail", args=["acme", notes_step.plan_id, "step", notes_step.pk])
    assert step_url in html


def test_every_kind_is_found_and_grouped_in_order(clients, acme, plan, tree, leads):
    milestone, objective, step = tree
    Plan.objects.filter(pk=plan.pk).update(description="Quokka season")
    Milestone.objects.filter(pk=milestone.pk).update(description="quokka milestone")
    Objective.objects.filter(pk=objective.pk).update(why="quokka objective")
    ActionStep.objects.filter(pk=step.pk).update(notes="quokka step")
    metrics_services.key_result_create(
        actor=acme.manager, objective=objective, title="Quokka clients", start=0, target=5
    )
    KPI.objects.filter(pk=leads.pk).update(description="quokka kpi")
    planning_services.comment_create(
        actor=acme.member, plan=plan, node_kind="objective", node=objective, body="What about the quokkas?"
    )
    acme.viewer.user.display_name = "Quokka Fan"
    acme.viewer.user.save()

    html = _search(clients["viewer"], "acme", "quokka").content.decode()
    labels = [
        "Plans",
        "Milestones",
        "Objectives",
        "Action steps",
        "Key results",
        "KPIs",
        "Comments",
        "People",
    ]
    positions = [html.index(f">{label}</h2>") for label in labels]
    assert positions == sorted(positions)
    assert html.count("<mark>") >= 8
    comment = Comment.objects.get()
    assert f"#comment-{comment.pk}" in html
    assert f"#member-{acme.viewer.pk}" in html


def test_another_organizations_content_never_shows(clients, acme, other, notes_step):
    theirs = make_plan(other.org, other.owner, milestones=1, objectives=1, steps=1, title="Lighthouse plan")
    ActionStep.objects.filter(plan=theirs).update(notes="lighthouse secret")
    mine = _search(clients["member"], "acme", "lighthouse").content.decode()
    assert "Reach out to leads" in mine
    assert "Lighthouse plan" not in mine and "secret" not in mine
    theirs_page = _search(clients["outsider"], "globex", "lighthouse").content.decode()
    assert "Lighthouse plan" in theirs_page and "Reach out to leads" not in theirs_page
    # Acme's search is not theirs to open, nor is theirs Acme's.
    assert _search(clients["outsider"], "acme", "lighthouse").status_code == 404
    assert _search(clients["member"], "globex", "lighthouse").status_code == 404
    assert _search(clients["anonymous"], "acme", "lighthouse").status_code == 302


@pytest.mark.parametrize("q", HOSTILE)
def test_any_text_is_a_query_never_an_error(clients, acme, notes_step, q):
    response = _search(clients["member"], "acme", q)
    assert response.status_code == 200
    assert b"<script>alert" not in response.content
    api = api_client(acme.member).get(reverse("api_search", args=["acme"]), {"q": q})
    assert api.status_code == 200, api.content
    for name in ("planning_api:api_step_list", "planning_api:api_plan_list", "metrics_api:api_kpi_list"):
        listed = api_client(acme.member).get(reverse(name, args=["acme"]), {"q": q})
        assert listed.status_code == 200, (name, listed.content)


def test_hostile_titles_are_escaped_in_the_hits(clients, acme, tree):
    _, _, step = tree
    ActionStep.objects.filter(pk=step.pk).update(title='<img src=x onerror="alert(1)"> outreach')
    html = _search(clients["member"], "acme", "outreach").content.decode()
    assert "<img" not in html
    assert "&lt;img" in html and "<mark>outreach</mark>" in html


def test_a_title_match_ranks_above_a_match_in_the_text(clients, acme, plan, tree):
    _, objective, step = tree
    ActionStep.objects.filter(pk=step.pk).update(notes="mention of walrus in the notes only")
    planning_services.step_create(actor=acme.manager, objective=objective, title="Walrus outreach")
    html = _search(clients["member"], "acme", "walrus").content.decode()
    assert html.index("<mark>Walrus</mark> outreach") < html.index("Reach out to leads")


def test_a_kind_alone_shows_more_and_a_link_back(clients, acme, plan):
    make_plan(acme.org, acme.manager, milestones=1, objectives=1, steps=12)
    html = _search(clients["member"], "acme", "step").content.decode()
    assert "More action steps" in html
    alone = _search(clients["member"], "acme", "step", kind="step").content.decode()
    assert alone.count('class="search-hit"') == 12
    assert "All kinds" in alone and ">Plans</h2>" not in alone


def test_empty_and_wordless_queries_say_what_to_do(clients, acme, plan):
    assert "Type a word" in _search(clients["member"], "acme", "!!!").content.decode()
    assert "Nothing matches" in _search(clients["member"], "acme", "zzyzx").content.decode()
    blank = _search(clients["member"], "acme", "")
    assert blank.status_code == 200 and b"Nothing matches" not in blank.content


def test_the_navigation_holds_a_search_box(clients, acme, plan):
    html = clients["viewer"].get(reverse("planning:plan_list", args=["acme"])).content.decode()
    assert f'action="{reverse("search", args=["acme"])}"' in html and 'name="q"' in html


def test_the_page_runs_the_same_queries_however_much_matches(clients, acme, django_assert_max_num_queries):
    make_plan(acme.org, acme.manager, milestones=1, objectives=1, steps=3, title="Pipeline plan")
    with django_assert_max_num_queries(14) as small:
        _search(clients["member"], "acme", "step")
    make_plan(acme.org, acme.manager, milestones=5, objectives=5, steps=10, title="Pipeline plan two")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = _search(clients["member"], "acme", "step")
    assert "More action steps" in response.content.decode()


# --- The API -----------------------------------------------------------------------------------------


def test_the_api_searches_grouped_by_kind(acme, other, notes_step):
    make_plan(other.org, other.owner, milestones=1, objectives=1, steps=1, title="Lighthouse plan")
    response = api_client(acme.member).get(reverse("api_search", args=["acme"]), {"q": "Lighthouse"})
    assert response.status_code == 200
    body = response.json()
    assert body["terms"] == ["lighthouse"]
    assert [g["kind"] for g in body["results"]] == ["step"]
    hit = body["results"][0]["hits"][0]
    assert hit["title"] == "Reach out to leads"
    assert "<mark>Lighthouse</mark>" in hit["excerpt_html"]
    assert hit["url"].endswith(f"/nodes/step/{notes_step.pk}/")
    # One kind, a limit, and clear errors for what cannot be.
    only = api_client(acme.member).get(reverse("api_search", args=["acme"]), {"q": "lead", "kind": "kpi"})
    assert {g["kind"] for g in only.json()["results"]} <= {"kpi"}
    search = reverse("api_search", args=["acme"])
    for params, field in (({"kind": "secret"}, "kind"), ({"limit": 0}, "limit"), ({"page": 2}, "page")):
        bad = api_client(acme.member).get(search, {"q": "x", **params})
        assert bad.status_code == 400
        assert list(bad.json()["fields"]) == [field]
    assert api_client(acme.member).get(reverse("api_search", args=["acme"])).status_code == 400
    assert api_client(other.owner).get(reverse("api_search", args=["acme"]), {"q": "x"}).status_code == 404


@pytest.mark.parametrize(
    "name, expected",
    [
        ("planning_api:api_plan_list", "Growth 2027"),
        ("planning_api:api_milestone_list", "Build a pipeline"),
        ("planning_api:api_objective_list", "Close five clients a month"),
        ("planning_api:api_step_list", "Reach out to leads"),
    ],
)
def test_the_lists_take_q(acme, other, plan, tree, name, expected):
    theirs = make_plan(other.org, other.owner, milestones=1, objectives=1, steps=1, title=expected)
    for model in (Milestone, Objective, ActionStep):
        model.objects.filter(plan=theirs).update(title=expected)
    client = api_client(acme.member)
    word = expected.split()[-1]
    found = client.get(reverse(name, args=["acme"]), {"q": word}).json()["results"]
    assert [row["title"] for row in found] == [expected]
    assert [row["id"] for row in found] != []
    assert client.get(reverse(name, args=["acme"]), {"q": "zzyzx"}).json()["results"] == []


def test_the_measure_lists_take_q(acme, plan, tree, leads, key_result):
    client = api_client(acme.member)
    kpis = client.get(reverse("metrics_api:api_kpi_list", args=["acme"]), {"q": "reach"}).json()["results"]
    assert [k["name"] for k in kpis] == ["Leads reached a month"]
    krs = client.get(reverse("metrics_api:api_key_result_list", args=["acme"]), {"q": "sign"}).json()[
        "results"
    ]
    assert [k["title"] for k in krs] == ["Clients signed"]
    assert client.get(reverse("metrics_api:api_kpi_list", args=["acme"]), {"q": "a\x00"}).status_code == 400


# --- The indexes -------------------------------------------------------------------------------------


SOURCES = [
    (Plan, planning_search.PLAN_SEARCHED),
    (Milestone, planning_search.MILESTONE_SEARCHED),
    (Objective, planning_search.OBJECTIVE_SEARCHED),
    (ActionStep, planning_search.STEP_SEARCHED),
    (Comment, planning_search.COMMENT_SEARCHED),
    (KeyResult, metrics_search.KEY_RESULT_SEARCHED),
    (KPI, metrics_search.KPI_SEARCHED),
]


@pytest.mark.postgres
@pytest.mark.parametrize("model, fields", SOURCES, ids=[m.__name__ for m, _ in SOURCES])
def test_each_search_uses_its_index(db, model, fields):
    """The migrations' GIN indexes cover exactly the expression the searches filter on (else PostgreSQL
    reads the whole table for every search)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's full-text search")
    from bizops.search import matching

    queryset = matching(model._default_manager.all(), fields, Terms.parse("lead"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "_search" in plan and "Bitmap Index Scan" in plan, plan


def test_every_kind_has_a_source():
    kinds = {s.kind for s in sources(lambda action: True)}
    assert kinds == {"plan", "milestone", "objective", "step", "key_result", "kpi", "comment", "person"}
