"""Working days of England and the data-entry deadlines of the standards (sections 5.1-5.5).

A working day is Monday to Friday and not an England bank holiday (the `holidays` package,
subdivision ENG, which includes substitute days) nor a local closure day of the authority.
"Within N working days of receipt": the day of receipt is day 0 and the deadline is the Nth
working day after it (../shared/research/domain.md §6.1).
"""

from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum

import holidays


class Deadline(StrEnum):
    """What was received, and so how many working days its entry may take."""

    INITIAL_CONTACT = "INITIAL_CONTACT"  # 5.1
    REFERRAL = "REFERRAL"  # 5.2
    PRIMARY_CHANGE = "PRIMARY_CHANGE"  # 5.3
    SECONDARY_CHANGE = "SECONDARY_CHANGE"  # 5.4
    REGISTER = "REGISTER"  # 5.5, attendance registers
    HOME_VISIT = "HOME_VISIT"  # 5.5, home-visit contact sheets


WORKING_DAYS_ALLOWED = {
    Deadline.INITIAL_CONTACT: 2,
    Deadline.REFERRAL: 2,
    Deadline.PRIMARY_CHANGE: 2,
    Deadline.SECONDARY_CHANGE: 5,
    Deadline.REGISTER: 5,
    Deadline.HOME_VISIT: 5,
}


class WorkingCalendar:
    def __init__(self, closures: Iterable[date] = ()) -> None:
        self._bank_holidays = holidays.country_holidays("GB", subdiv="ENG")
        self._closures = frozenset(closures)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._bank_holidays and day not in self._closures

    def add_working_days(self, start: date, days: int) -> date:
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        return sum(1 for n in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=n)))

    def deadline(self, kind: Deadline, received_on: date) -> date:
        return self.add_working_days(received_on, WORKING_DAYS_ALLOWED[kind])

    def is_late(self, kind: Deadline, received_on: date, entered_on: date) -> bool:
        return entered_on > self.deadline(kind, received_on)
