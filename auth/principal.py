from dataclasses import dataclass

from authz.grants import Assignment, Grants


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    session_id: int
    assignments: tuple[Assignment, ...]
    grants: Grants
    # An administrator set the password: the session may only change it, log out and read `me`.
    must_change_password: bool = False
