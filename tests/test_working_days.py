"""Standards 5: forms are entered within 2 (or 5) working days of receipt, in England."""

from datetime import date

import pytest

from resolvers.working_days import Deadline, WorkingCalendar

calendar = WorkingCalendar()


@pytest.mark.parametrize(
    ("received", "deadline"),
    [
        (date(2025, 12, 19), date(2025, 12, 23)),  # Friday: the weekend does not count
        (date(2025, 12, 24), date(2025, 12, 30)),  # Christmas and Boxing Day, then the weekend
        (date(2026, 4, 2), date(2026, 4, 8)),  # Good Friday and Easter Monday
        (date(2025, 8, 22), date(2025, 8, 27)),  # late summer bank holiday
        (date(2026, 12, 24), date(2026, 12, 30)),  # Boxing Day observed on Monday 28th
    ],
    ids=str,
)
def test_initial_contact_deadline_is_two_working_days_after_receipt(received: date, deadline: date) -> None:
    assert calendar.deadline(Deadline.INITIAL_CONTACT, received) == deadline


def test_working_days_between_counts_the_days_after_receipt() -> None:
    assert calendar.working_days_between(date(2025, 12, 24), date(2025, 12, 30)) == 2


def test_secondary_changes_and_registers_have_five_working_days() -> None:
    assert calendar.deadline(Deadline.SECONDARY_CHANGE, date(2026, 11, 27)) == date(2026, 12, 4)
    assert calendar.deadline(Deadline.REGISTER, date(2026, 11, 27)) == date(2026, 12, 4)


def test_a_form_received_at_the_weekend_starts_counting_on_monday() -> None:
    assert calendar.deadline(Deadline.REFERRAL, date(2026, 11, 28)) == date(2026, 12, 1)


def test_local_closure_days_are_not_working_days() -> None:
    closed = WorkingCalendar(closures=[date(2026, 12, 29)])
    assert closed.deadline(Deadline.INITIAL_CONTACT, date(2026, 12, 24)) == date(2026, 12, 31)


def test_entry_after_the_deadline_is_late() -> None:
    assert calendar.is_late(Deadline.INITIAL_CONTACT, date(2025, 12, 19), date(2025, 12, 24))
    assert not calendar.is_late(Deadline.INITIAL_CONTACT, date(2025, 12, 19), date(2025, 12, 23))
