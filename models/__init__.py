"""SQLAlchemy models, one module per aggregate; importing the package registers them all."""

from models.audit import AuditEvent
from models.base import Base
from models.contactpoint import ContactPointChange
from models.cp_plan import ChildProtectionPlan
from models.family import Affiliation, Carer, CarerChild, Child, Family
from models.form import Form
from models.geography import BirthFigure, PostcodeArea
from models.lookup import LookupValue, SubjectCode
from models.note import Note
from models.setting import Setting
from models.throttle import LoginThrottle
from models.user import LoginSession, RoleAssignment, User

__all__ = [
    "Affiliation",
    "AuditEvent",
    "Base",
    "BirthFigure",
    "Carer",
    "CarerChild",
    "Child",
    "ChildProtectionPlan",
    "ContactPointChange",
    "Family",
    "Form",
    "LoginSession",
    "LoginThrottle",
    "LookupValue",
    "Note",
    "PostcodeArea",
    "RoleAssignment",
    "Setting",
    "SubjectCode",
    "User",
]
