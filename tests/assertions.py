"""The assertions every test file shares: the error codes of an answer, the field at a path of
an answer, "the only errors are these denials", a refused field, a refused input and a refused
write that changed nothing."""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

Path = tuple[str | int, ...]


def codes(answer: Mapping[str, Any] | httpx.Response) -> list[str]:
    """The `extensions.code` of each error of a GraphQL answer (its JSON body, or the HTTP
    response carrying it), in order; [] when there are none."""
    body = answer.json() if isinstance(answer, httpx.Response) else answer
    return [error["extensions"]["code"] for error in body.get("errors") or []]


def at(data: Any, path: Path) -> Any:
    """The value at `path` (keys and list indices) of an answer's data."""
    for step in path:
        data = data[step]
    return data


def assert_only_denials(body: Mapping[str, Any], expected: Mapping[Path, set[str]]) -> None:
    """The answer's errors are exactly one FORBIDDEN per expected path, naming one of the
    categories expected there."""
    errors = body.get("errors") or []
    assert sorted((tuple(error.get("path") or ()) for error in errors), key=repr) == sorted(expected, key=repr), errors
    for error in errors:
        assert error["extensions"]["code"] == "FORBIDDEN", error
        assert error["extensions"].get("category") in expected[tuple(error["path"])], error


def assert_refused(body: Mapping[str, Any], field: str, categories: set[str]) -> None:
    """A refused root field: no result, and one FORBIDDEN on it naming one of `categories`."""
    assert body["data"] is None or body["data"].get(field) is None, body
    assert_only_denials(body, {(field,): categories})


def assert_bad_input(body: Mapping[str, Any], field: str, input_field: str) -> None:
    """Exactly one BAD_USER_INPUT on root field `field`, naming the input at fault, and no result."""
    assert body["data"] is None or body["data"].get(field) is None, body
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"].get("field") == input_field, body["errors"][0]


Write = Callable[[], Awaitable[Mapping[str, Any]]]


async def assert_writes_refused(
    state: Callable[[], Awaitable[object]],
    writes: Mapping[str, Write],
    forbidden: set[str] | None = None,
    *,
    code: str = "FORBIDDEN",
    reason: str | None = None,
) -> None:
    """Each write, sent in turn and named by its root field, is refused, and `state` reads the
    same after them as before. Refused: FORBIDDEN naming one of the `forbidden` categories
    (assert_refused); or, for another `code`, no result and that code alone, with `reason`
    when one is given."""
    assert (code == "FORBIDDEN") == (forbidden is not None), "the categories go with FORBIDDEN alone"
    before = await state()
    for field, write in writes.items():
        body = await write()
        if forbidden is not None:
            assert_refused(body, field, forbidden)
            continue
        assert body["data"] is None or body["data"].get(field) is None, body
        assert codes(body) == [code], body
        if reason is not None:
            assert body["errors"][0]["extensions"].get("reason") == reason, body["errors"][0]
    assert await state() == before
