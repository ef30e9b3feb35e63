"""Pagination: the schema's one PageInfo, and the resolver every connection's `pageInfo` uses."""

from typing import Protocol

import strawberry

from schema.fields import public


class Page(Protocol):
    """A page of nodes as a resolver returns it (resolvers' FamilyPage, ActivityPage, UserPage,
    AuditPage): whether another follows, and where it starts."""

    @property
    def has_next_page(self) -> bool: ...
    @property
    def end_cursor(self) -> str | None: ...


@public
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def page_info_of(root: strawberry.Parent[Page]) -> PageInfo:
    """A connection's `pageInfo`: `strawberry.field(resolver=page_info_of)`."""
    return PageInfo(has_next_page=root.has_next_page, end_cursor=root.end_cursor)
