"""Every write of the metrics app, by what it writes: KPIs and measurements, their CSV
import, key results, check-ins.

Callers import from here (``from metrics import services``); the modules are how the code is kept,
not part of the interface.
"""

from .check_ins import (
    CheckInEntry,
    can_check_in,
    check_in_key_result,
    check_in_many,
    check_in_objective,
    check_in_step,
)
from .common import KEY_RESULT_FIELDS, KPI_FIELDS, MAX_VALUE
from .imports import IMPORT_COLUMNS, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, ImportResult, measurements_import_csv
from .key_results import key_result_create, key_result_delete, key_result_update
from .kpis import (
    can_record,
    kpi_create,
    kpi_delete,
    kpi_link_objectives,
    kpi_target_set,
    kpi_update,
    measurement_record,
)

__all__ = [
    "IMPORT_COLUMNS",
    "KEY_RESULT_FIELDS",
    "KPI_FIELDS",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "MAX_VALUE",
    "CheckInEntry",
    "ImportResult",
    "can_check_in",
    "can_record",
    "check_in_key_result",
    "check_in_many",
    "check_in_objective",
    "check_in_step",
    "key_result_create",
    "key_result_delete",
    "key_result_update",
    "kpi_create",
    "kpi_delete",
    "kpi_link_objectives",
    "kpi_target_set",
    "kpi_update",
    "measurement_record",
    "measurements_import_csv",
]
