"""A request's objects are freed with its response, not left to the cyclic garbage collector.

DRF keeps a response on its view and itself in its ``renderer_context``, and Django's template
backend leaves a page's context pushed on its ``RequestContext``: reference cycles, so a big plan's
tree, its API body or its page context lived on after the request until the collector's next full
pass (``bizops.rest.OrgApi.dispatch``, ``bizops.template_backend``). Measured here as the objects
the collector finds unreachable after one request: a few hundred of the framework's own, the same
whatever the plan's size.
"""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest
from django.conf import settings
from django.template import engines
from django.urls import reverse

from bizops.collector import FULL_COLLECTION_EVERY
from bizops.template_backend import DjangoTemplates
from planning.models import Plan
from tests.conftest import client_for
from tests.planning.factories import PlanFactory, api_client, build_tree

pytestmark = pytest.mark.django_db


def unreachable_after(client, path: str) -> int:
    """How many objects the collector finds in reference cycles once one request is over."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        response = client.get(path)
        assert response.status_code == 200
        # The test client's own cycle (``response.json``: a partial holding the response); a worker
        # has none.
        del response.json
        del response
        return gc.collect()
    finally:
        if enabled:
            gc.enable()


@pytest.fixture
def plans(acme) -> tuple[Plan, Plan]:
    small, big = (PlanFactory(organization=acme.org, owner=acme.manager) for _ in range(2))
    people = [acme.owner, acme.member, acme.admin]
    assert build_tree(small, milestones=1, objectives=2, steps=2, people=people) == 7
    assert build_tree(big, milestones=4, objectives=5, steps=20, people=people) == 424
    return small, big


def test_the_tree_api_leaves_nothing_for_the_collector_whatever_the_plan(acme, plans):
    client = api_client(acme.viewer)
    paths = [reverse("planning_api:api_plan_tree", args=["acme", plan.pk]) for plan in plans]
    for path in paths:  # first requests warm caches (sessions, compiled queries, templates)
        unreachable_after(client, path)

    small, big = (unreachable_after(client, path) for path in paths)

    # Before: the big plan's body (a dict per node, a list per parent) was all in a cycle.
    assert big - small < 50, (small, big)


def test_the_strategy_map_leaves_nothing_for_the_collector_whatever_the_plan(acme, plans):
    client = client_for(acme.viewer)
    paths = [reverse("planning:plan_map", args=["acme", plan.pk]) for plan in plans]
    for path in paths:
        unreachable_after(client, path)

    small, big = (unreachable_after(client, path) for path in paths)

    # Before: the page's context (the tree: model instances, figures, parts) was all in a cycle.
    assert big - small < 50, (small, big)


def test_the_backend_renders_as_djangos_own(rf):
    """Context over context processors, autoescaping, plain dicts without a request: as Django's."""
    engine = engines["django"]
    assert isinstance(engine, DjangoTemplates)  # this project's backend, under Django's alias
    request = rf.get("/")
    request.user = None
    template = engine.from_string("{{ request.path }} {{ value }} {{ html }}")

    assert template.render({"value": 1, "html": "<b>"}, request) == "/ 1 &lt;b&gt;"
    assert engine.from_string("{{ request }}").render({"request": "mine"}, request) == "mine"
    assert template.render({"value": 2}) == " 2 "
    assert template.render(None, request) == "/  "
    with pytest.raises(TypeError):
        template.render(["not", "a", "dict"], request)


def test_a_gunicorn_worker_sets_up_the_collector_before_its_first_request():
    """``post_worker_init`` freezes what the worker loaded and makes full collections rarer
    (``bizops.collector``); run in a process of its own, since both change the whole interpreter."""
    script = (
        "import gc, runpy; hooks = runpy.run_path('gunicorn.conf.py'); "
        "hooks['post_worker_init'](None); print(gc.get_freeze_count() > 1000, gc.get_threshold()[2])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )

    assert done.stdout.split() == ["True", str(FULL_COLLECTION_EVERY)]
