"""Input and output shapes of the metrics API: KPIs and measurements, key results, check-ins, progress.

As in ``planning/serializers``: input serializers check the shape of a request (types, which fields
go together, ids that exist *in the caller's organization*) and hand plain values to a service, which
holds the rules and their messages ("When higher is better, the amber line sits at or below the
target."). Numbers are checked to be numbers below 10 trillion either way (the service's bound, stated
in the schema); how thresholds relate is the service's call. Output serializers read objects loaded with
their people, so lists cost no query per row.

Every choice field is a ``NamedChoiceField``: drf-spectacular would otherwise name the enums after the
fields (``direction``, ``kind``, ``status``) and clash with planning's fields of the same names.

``fields``: building blocks; ``kpis``: KPIs and measurements; ``key_results``: key results and
check-ins; ``progress``: a plan's figures.
"""

from .alignment import (  # noqa: F401
    AlignmentOptionQuerySerializer,
    AlignmentOptionSerializer,
    AlignmentSerializer,
    AlignmentSetSerializer,
)
from .fields import (  # noqa: F401
    CheckInTargetField,
    ConfidenceField,
    KeyResultDirectionField,
    KeyResultKindField,
    KPIDirectionField,
    KPIFrequencyField,
    KPIStatusField,
    KPIUnitField,
    NumberExtension,
    NumberField,
    ProgressPartKindField,
    decimal_output,
    number_field,
)
from .key_results import (  # noqa: F401
    CHECK_IN_VALUE,
    ON_TARGET,
    TARGET_FIELDS,
    CheckInCreateSerializer,
    CheckInFilterSerializer,
    CheckInSerializer,
    KeyResultCreateSerializer,
    KeyResultFields,
    KeyResultFilterSerializer,
    KeyResultSerializer,
    KeyResultUpdateSerializer,
    SinceField,
    check_in_schema,
)
from .kpis import (  # noqa: F401
    ImportErrorSerializer,
    ImportRowErrorSerializer,
    KPICreateSerializer,
    KPIDetailQuerySerializer,
    KPIDetailSerializer,
    KPIFields,
    KPIFilterSerializer,
    KPIPointSerializer,
    KPISerializer,
    KPIStatusSerializer,
    KPIUpdateSerializer,
    LatestMeasurementSerializer,
    MeasurementCreateSerializer,
    MeasurementFilterSerializer,
    MeasurementImportResultSerializer,
    MeasurementImportSerializer,
    MeasurementSerializer,
)
from .plan_files import PlanFileUploadSerializer, PlanImportResultSerializer  # noqa: F401
from .progress import (  # noqa: F401
    ObjectiveFigureSerializer,
    PlanHistorySerializer,
    PlanProgressSerializer,
    ProgressFigureSerializer,
    ProgressPartSerializer,
    plan_history_data,
    plan_progress,
)
