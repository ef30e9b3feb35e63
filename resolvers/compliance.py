"""Compliance dates of a user (standards 4): an enhanced CRB check and data-protection training.

Each lapses: the CRB check `crb_renewal_years` after it was made (the authority sets it,
ESTART_CRB_RENEWAL_YEARS, default 3), the training a year after it was taken. The day of expiry
is the anniversary (29 February counts as 28 February in other years): the user may log in on
the day before it and not from it on, until an administrator records the renewal. From 30 days
before expiry `me` and the administrator's `users` list warn.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from errors import Forbidden, ServiceError

WARN_DAYS = 30
TRAINING_RENEWAL_YEARS = 1
COMPLIANCE_EXPIRED = "COMPLIANCE_EXPIRED"


class ComplianceWarning(StrEnum):
    CRB_CHECK_DUE = "CRB_CHECK_DUE"
    CRB_CHECK_EXPIRED = "CRB_CHECK_EXPIRED"
    DATA_PROTECTION_TRAINING_DUE = "DATA_PROTECTION_TRAINING_DUE"
    DATA_PROTECTION_TRAINING_EXPIRED = "DATA_PROTECTION_TRAINING_EXPIRED"


class ComplianceExpired(Forbidden):
    """FORBIDDEN with `extensions.reason` COMPLIANCE_EXPIRED: a login refused until renewal."""

    def __init__(self, message: str) -> None:
        ServiceError.__init__(self, message, reason=COMPLIANCE_EXPIRED)


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True, slots=True)
class Compliance:
    crb_expires_on: date
    training_expires_on: date
    warnings: tuple[ComplianceWarning, ...]

    @property
    def lapsed(self) -> list[str]:
        return [w.name.removesuffix("_EXPIRED") for w in self.warnings if w.name.endswith("_EXPIRED")]


def compliance(crb_checked_on: date, trained_on: date, crb_renewal_years: int, today: date) -> Compliance:
    crb = years_after(crb_checked_on, crb_renewal_years)
    training = years_after(trained_on, TRAINING_RENEWAL_YEARS)
    warnings = []
    for name, expires in (("CRB_CHECK", crb), ("DATA_PROTECTION_TRAINING", training)):
        if expires <= today:
            warnings.append(ComplianceWarning[f"{name}_EXPIRED"])
        elif (expires - today).days <= WARN_DAYS:
            warnings.append(ComplianceWarning[f"{name}_DUE"])
    return Compliance(crb, training, tuple(warnings))


def refuse_if_expired(state: Compliance) -> None:
    if state.lapsed:
        raise ComplianceExpired(
            f"Login refused: {', '.join(state.lapsed)} expired; the eStart Administrator records the renewal"
        )
