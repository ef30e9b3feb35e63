"""SQLAlchemy models, one module per aggregate; importing the package registers them all."""

from models.activity import Activity, ActivitySession, Attendance, Contact
from models.audit import AuditEvent
from models.base import Base
from models.contactpoint import ContactPointChange
from models.cp_plan import ChildProtectionPlan
from models.family import Affiliation, Carer, CarerChild, Child, Family
from models.form import Form
from models.geography import BirthFigure, PostcodeArea
from models.idempotency import IdempotencyKey
from models.lookup import LookupValue, SubjectCode
from models.note import Note
from models.setting import Setting
from models.throttle import DeploymentSecret, LoginThrottle
from models.user import LoginSession, RoleAssignment, User, UserRequest

__all__ = [
    "Activity",
    "ActivitySession",
    "Affiliation",
    "Attendance",
    "AuditEvent",
    "Base",
    "BirthFigure",
    "Carer",
    "CarerChild",
    "Child",
    "ChildProtectionPlan",
    "Contact",
    "ContactPointChange",
    "DeploymentSecret",
    "Family",
    "Form",
    "IdempotencyKey",
    "LoginSession",
    "LoginThrottle",
    "LookupValue",
    "Note",
    "PostcodeArea",
    "RoleAssignment",
    "Setting",
    "SubjectCode",
    "User",
    "UserRequest",
]
