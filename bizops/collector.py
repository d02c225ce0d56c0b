"""How a web worker sets up Python's cyclic garbage collector, once Django is loaded and before its
first request: ``gunicorn.conf.py`` (``post_worker_init``) calls ``prepare_worker``, and so do the
benchmarks (``bench/``) after their warm-up, so they measure what a worker does.

- ``gc.freeze()``: every object loaded so far (modules, models, settings: ~140,000) leaves the
  collector's sight; full collections no longer walk them.
- Full collections ten times rarer than Python's default: after 100 collections of the middle
  generation instead of 10, about every 700,000 net allocations of container objects instead of
  70,000. A read of a big plan builds its tree (~100,000 objects for 22,040 nodes), and each full
  collection during it walked the whole tree built so far: more nodes meant both more collections
  and longer ones, so the tree API of the 22,040-node plan spent ~90 ms a request in them, the
  5,520-node plan's 2-4 ms. The cost is memory held by garbage in reference cycles until the rarer
  pass. A request's big objects (an API body, a page's context) are no longer in cycles
  (``bizops.rest.OrgApi.dispatch``, ``bizops.template_backend``); small ones of the frameworks still
  are (DRF's request and view, Django's request and its lazy user, so an upload's body too), and the
  benchmarks' peak memory did not move (bench/README.md, "Garbage collection").
"""

from __future__ import annotations

import gc

FULL_COLLECTION_EVERY = 100  # collections of the middle generation (Python's default: 10)


def prepare_worker() -> None:
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
