"""The metrics REST API: KPIs and measurements, key results, check-ins and the progress roll-up, scoped
to the organization in the URL (``/api/v1/orgs/<org_slug>/``).

It follows the planning API (``planning/api/``) and builds on its base view: the caller's membership of
``org_slug`` is resolved first (a non-member gets 404), objects are looked up inside that organization
only, a serializer checks the request's shape and one service does the work and decides who may do
what (``PermissionDenied`` 403, ``ValidationError`` 400, ``Conflict`` 409).

Concurrency: KPIs and key results carry ``ETag: "v<version>"``; PATCH and DELETE honour ``If-Match``
(stale → 412) and PATCH a body ``version`` (stale → 409 with ``current_version``).
"""

from .alignment import AlignmentOptionsApi, ObjectiveAlignmentApi
from .exchange import PlanExportApi, PlanImportApi
from .kpis import KPIDetailApi, KPIListApi, MeasurementImportApi, MeasurementListApi
from .measure import CheckInListApi, KeyResultDetailApi, KeyResultListApi, PlanHistoryApi, PlanProgressApi

__all__ = [
    "AlignmentOptionsApi",
    "CheckInListApi",
    "KPIDetailApi",
    "KPIListApi",
    "KeyResultDetailApi",
    "KeyResultListApi",
    "MeasurementImportApi",
    "MeasurementListApi",
    "ObjectiveAlignmentApi",
    "PlanExportApi",
    "PlanHistoryApi",
    "PlanImportApi",
    "PlanProgressApi",
]
