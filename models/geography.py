from datetime import date

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class PostcodeArea(Base):
    """Where a postcode lies (research/domain.md §4): its LSOA and the reach area the authority
    gives it. Loaded whole by importPostcodeAreas; each LSOA lies in one reach area."""

    __tablename__ = "postcode_areas"

    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)  # normalised, "AB1 2CD"
    reach_area: Mapped[str] = mapped_column(String(60), index=True)
    lsoa: Mapped[str] = mapped_column(String(9))


class BirthFigure(Base):
    """Births in a reach area in a month (standards 5.1), the denominator of penetration."""

    __tablename__ = "birth_figures"
    __table_args__ = (UniqueConstraint("month", "reach_area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the month's first day
    reach_area: Mapped[str] = mapped_column(String(60))
    births: Mapped[int] = mapped_column(Integer)
