"""Typed reads of a delivery's JSON: a field the router needs that is missing or of the wrong type
is a `MalformedEvent` naming its path (`issue.number: expected an integer, got a string`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MalformedEvent(ValueError):
    """A signed delivery whose payload cannot be routed: a field is missing or has the wrong type."""

    def __init__(self, path: str, expected: str, found: Any) -> None:
        self.path = path
        super().__init__(f"{path}: expected {expected}, got {_kind(found)}")


def _kind(value: Any) -> str:
    """How a JSON value is named in an error message."""
    if value is None:
        return "nothing"
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }
    return names.get(type(value), type(value).__name__)


class Fields:
    """A JSON object and its path in the payload, read with typed accessors.

    Optional readers (`obj`, `objects`, `optional_*`, `flag`) take an absent key or `null` as
    empty; every reader refuses a value of another type.
    """

    def __init__(self, data: Mapping[str, Any], path: str = "") -> None:
        self.data = data
        self.path = path

    def __bool__(self) -> bool:
        return bool(self.data)

    def where(self, key: str | int) -> str:
        """The path of `key` inside this object, e.g. `pull_request.head.ref`."""
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def obj(self, key: str) -> Fields:
        """The object at `key`; empty when absent or null."""
        value = self.data.get(key)
        if value is None:
            return Fields({}, self.where(key))
        if not isinstance(value, dict):
            raise MalformedEvent(self.where(key), "an object", value)
        return Fields(value, self.where(key))

    def objects(self, key: str) -> list[Fields]:
        """The array of objects at `key`; empty when absent or null."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise MalformedEvent(self.where(key), "an array", value)
        array = Fields({}, self.where(key))
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise MalformedEvent(array.where(index), "an object", item)
        return [Fields(item, array.where(index)) for index, item in enumerate(value)]

    def integer(self, key: str) -> int:
        """The integer at `key`; absent is an error."""
        value = self.optional_integer(key)
        if value is None:
            raise MalformedEvent(self.where(key), "an integer", None)
        return value

    def optional_integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise MalformedEvent(self.where(key), "an integer", value)
        return value

    def text(self, key: str) -> str:
        """The string at `key`; absent is an error."""
        value = self.optional_text(key)
        if value is None:
            raise MalformedEvent(self.where(key), "a string", None)
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or isinstance(value, str):
            return value
        raise MalformedEvent(self.where(key), "a string", value)

    def flag(self, key: str) -> bool:
        """The boolean at `key`; absent is False."""
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise MalformedEvent(self.where(key), "a boolean", value)
        return value


def check_envelope(payload: Mapping[str, Any]) -> None:
    """The fields every routed event is read through (`Event.repo`, `installation_id`, `sender`):
    a repository named by a string, an integer installation id, a sender object."""
    fields = Fields(payload)
    fields.obj("repository").text("full_name")
    fields.optional_text("action")
    fields.obj("installation").optional_integer("id")
    sender = fields.obj("sender")
    sender.optional_text("login")
    sender.optional_text("type")
