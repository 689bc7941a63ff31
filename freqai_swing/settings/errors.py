"""Config errors that name the key path in one line, and suggest the key that was meant."""

from __future__ import annotations

import dataclasses
import difflib
import json
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, TypeVar

from pydantic import ConfigDict, TypeAdapter, ValidationError, ValidationInfo
from pydantic_core import ErrorDetails, PydanticCustomError

T = TypeVar("T")

#: The one pydantic configuration of every settings class: an unknown key is an error, and no
#: setting is infinite or NaN.
SETTINGS_CONFIG: Final = ConfigDict(extra="forbid", allow_inf_nan=False)

_UNKNOWN_KEY_TYPES: Final[frozenset[str]] = frozenset(
    {"unexpected_keyword_argument", "extra_forbidden", "unknown_key"}
)


#: Validation context of a config block (code may construct settings a config may not hold).
_FROM_CONFIG: Final[dict[str, bool]] = {"from_config": True}


def from_config(info: ValidationInfo) -> bool:
    """Whether a validator checks a config block, not settings built by code."""
    return isinstance(info.context, dict) and bool(info.context.get("from_config"))


class SwingConfigError(ValueError):
    """A config key or value of the bundle is wrong; the message names it."""


def unknown_key_message(path: str, known: Iterable[str]) -> str:
    """``Unknown key a.b.c; did you mean d?`` (or the known keys when none is close)."""
    key = path.rsplit(".", 1)[-1]
    names = sorted(known)
    close = difflib.get_close_matches(key, names, n=1)
    if close:
        return f"Unknown key {path}; did you mean {close[0]}?"
    return f"Unknown key {path} (known: {', '.join(names)})"


def unknown_key(key: str, known: Iterable[str]) -> PydanticCustomError:
    """The error a validator raises for a key of a free-form block that is not accepted."""
    return PydanticCustomError("unknown_key", "unknown key", {"key": key, "known": sorted(known)})


_ADAPTERS: Final[dict[type[Any], TypeAdapter[Any]]] = {}


def _adapter(cls: type[Any]) -> TypeAdapter[Any]:
    """The validator of ``cls``, built once (building it costs more than using it)."""
    if cls not in _ADAPTERS:
        _ADAPTERS[cls] = TypeAdapter(cls)
    return _ADAPTERS[cls]


def json_schema(cls: type[Any]) -> dict[str, Any]:
    """The JSON schema of a settings class, derived from its declaration."""
    schema: dict[str, Any] = _adapter(cls).json_schema()
    return schema


def validate(cls: type[T], block: Any, where: str, renamed: Mapping[str, str] | None = None) -> T:
    """Settings of type ``cls`` from a config block, checked as strictly as JSON types go.

    Strict: ``"0.5"`` is no number and ``1`` no boolean, as with a JSON schema. ``renamed`` maps
    a field name to the config key it is read from, for the error messages.

    Raises:
        SwingConfigError: one line per wrong key or value, each naming its path.
    """
    try:
        text = json.dumps(block if block is not None else {}, allow_nan=True)
    except (TypeError, ValueError) as error:
        raise SwingConfigError(f"{where}: not plain JSON data ({error})") from None
    try:
        settings: T = _adapter(cls).validate_json(text, strict=True, context=_FROM_CONFIG)
    except ValidationError as error:
        details = _root_causes(error.errors())
        lines = [_error_line(detail, cls, where, renamed or {}) for detail in details]
        raise SwingConfigError(config_error_message(lines)) from None
    return settings


def _root_causes(details: list[ErrorDetails]) -> list[ErrorDetails]:
    """Without "too short" for a list whose items were refused (it is empty only because)."""
    return [
        detail
        for detail in details
        if detail["type"] != "too_short"
        or not any(
            other["loc"][: len(detail["loc"])] == detail["loc"]
            and len(other["loc"]) > len(detail["loc"])
            for other in details
        )
    ]


def config_error_message(lines: Sequence[str]) -> str:
    """One line for one error; a list for several."""
    if len(lines) == 1:
        return f"Invalid freqai-swing configuration: {lines[0]}"
    return "Invalid freqai-swing configuration:\n  " + "\n  ".join(lines)


def _error_line(
    detail: ErrorDetails, root: type[Any], where: str, renamed: Mapping[str, str]
) -> str:
    location = list(detail["loc"])
    context = detail.get("ctx") or {}
    if detail["type"] == "unknown_key":
        location.append(str(context["key"]))
    names = [
        renamed.get(str(part), str(part)) if i == 0 else str(part)
        for i, part in enumerate(location)
    ]
    path = ".".join([where, *names])
    if detail["type"] in _UNKNOWN_KEY_TYPES:
        known = context.get("known") or _field_names(root, location[:-1])
        return unknown_key_message(path, known)
    message = detail["msg"].removeprefix("Value error, ")
    if detail["type"] not in {"value_error", "assertion_error"} and "input" in detail:
        message += f", got {json.dumps(detail['input'], default=str)}"
    return f"{path}: {message}"


def _field_names(root: type[Any], location: Sequence[int | str]) -> list[str]:
    """The keys the settings class at ``location`` (below ``root``) declares."""
    current: Any = root
    for part in location:
        current = _unwrap(current)
        if isinstance(part, int):
            arguments = typing.get_args(current)
            current = arguments[0] if arguments else Any
        elif dataclasses.is_dataclass(current):
            current = typing.get_type_hints(current, include_extras=True).get(part, Any)
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and dataclasses.is_dataclass(current):
        return [item.name for item in dataclasses.fields(current)]
    return []


def _unwrap(annotation: Any) -> Any:
    """The class inside ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            annotation = options[0] if len(options) == 1 else Any
        else:
            return annotation
