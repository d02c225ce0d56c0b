"""How a service's refusal reads in a page's message banner, the same in every app."""

from bizops.errors import Conflict, ValidationError, error_message


def test_a_conflict_reads_as_its_message():
    assert error_message(Conflict("This plan is closed.", current_version=3)) == "This plan is closed."


def test_a_validation_error_reads_as_its_messages_in_one_sentence():
    exc = ValidationError({"title": "Give it a title.", "due_date": "Pick a later day."})
    assert error_message(exc) == "Give it a title. Pick a later day."
    assert error_message(ValidationError("Not now.")) == "Not now."


def test_the_planning_pages_use_the_same_helper():
    from planning.views import common

    assert common.error_message is error_message
