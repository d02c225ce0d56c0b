"""The collector pause of the biggest reads: nested and overlapping pauses resume it once, at the end,
and only if it ran before; the tree API and the maps leave it running."""

from __future__ import annotations

import gc

import pytest
from django.urls import reverse

from bizops.gcpause import gc_paused
from tests.conftest import client_for
from tests.factories import make_plan
from tests.planning.factories import api_client


def test_pauses_nest_and_the_collector_resumes_after_the_last():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_switched_off_elsewhere_stays_off_and_an_error_still_resumes_it():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError
    assert gc.isenabled()


def test_the_setting_turns_the_pause_off(settings):
    settings.BIZOPS_PAUSE_GC = False
    with gc_paused():
        assert gc.isenabled()


@pytest.mark.django_db
def test_the_big_reads_leave_the_collector_running(acme):
    plan = make_plan(acme.org, acme.manager, milestones=1, objectives=1, steps=1)
    assert (
        api_client(acme.viewer)
        .get(reverse("planning_api:api_plan_tree", args=[acme.org.slug, plan.pk]))
        .status_code
        == 200
    )
    client = client_for(acme.viewer)
    for name in ("planning:plan_map", "planning:plan_visual"):
        assert client.get(reverse(name, args=[acme.org.slug, plan.pk])).status_code == 200
    assert gc.isenabled()
