"""How a field declares its data category, next to the field itself.

    first_name: str | None = field(Category.PRIMARY)

The guard installed by schema.build reads these declarations; a field of a record type
without one stops the schema from building (fail closed).
"""

from typing import Any, TypeVar

import strawberry

from authz.categories import INHERITED, Category, FieldCategory

CATEGORY = "estart.category"
RECORD_TYPES: list[type[Any]] = []

T = TypeVar("T", bound=type[Any])

__all__ = ["CATEGORY", "INHERITED", "Category", "field", "record"]


def field(category: FieldCategory, resolver: Any = None, **kwargs: Any) -> Any:
    """A strawberry field carrying its data category; usable as a decorator too."""
    metadata = {**kwargs.pop("metadata", {}), CATEGORY: category}
    if resolver is not None:
        return strawberry.field(resolver, metadata=metadata, **kwargs)
    return strawberry.field(metadata=metadata, **kwargs)


def guarded(category: FieldCategory, **kwargs: Any) -> Any:
    """Decorator form for resolver methods: @guarded(Category.SECONDARY)."""

    def wrap(resolver: Any) -> Any:
        return field(category, resolver, **kwargs)

    return wrap


def record(cls: T) -> T:
    """A record type: every field must declare a category."""
    decorated = strawberry.type(cls)
    RECORD_TYPES.append(decorated)
    return decorated
