"""One field list per model: the API's input, the pages' forms and the services take the same fields,
so a field added to the services cannot be missing from a form or the API (or the other way round)."""

from metrics.forms import KeyResultForm, KPIForm
from metrics.serializers import KeyResultFields, KeyResultSerializer, KPIFields, KPISerializer
from metrics.services import KEY_RESULT_FIELDS, KPI_FIELDS


def test_a_kpi_takes_the_same_fields_in_the_api_the_form_and_the_service():
    assert list(KPIFields().fields) == [*KPI_FIELDS, "objectives"]
    assert list(KPIForm.base_fields) == [*KPI_FIELDS, "objectives", "version"]
    assert set(KPI_FIELDS) <= set(KPISerializer().fields)


def test_a_key_result_takes_the_same_fields_in_the_api_the_form_and_the_service():
    assert list(KeyResultFields().fields) == KEY_RESULT_FIELDS
    assert list(KeyResultForm.base_fields) == [*KEY_RESULT_FIELDS, "version"]
    assert set(KEY_RESULT_FIELDS) <= set(KeyResultSerializer().fields)
