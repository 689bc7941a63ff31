"""Each setting declared once: defaults, bounds, schema and errors all come from one declaration."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Any

import pytest

from freqai_swing.settings import (
    PortfolioSettings,
    PPOMemberSettings,
    RiskSettings,
    SelfTrainSettings,
    SwingConfigError,
    SwingSettings,
    load_swing_settings,
    ppo_member_settings,
    settings_fingerprint,
    swing_json_schema,
)
from freqai_swing.settings.errors import unknown_key_message
from tests.conftest import CONFIG_DIR, REPO_ROOT

DOCS_DIR = REPO_ROOT / "docs"


def _merged(*names: str) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name in names:
        config.update(json.loads((CONFIG_DIR / name).read_text()))
    return config


def _spelled_out(settings: Any) -> dict[str, Any]:
    """A ``swing`` block that writes every resolved value out, defaults included."""
    block = dataclasses.asdict(settings)
    for member in block["ensemble"]["members"]:
        member.pop("enabled")
    return block


def _without_member_blocks(settings: SwingSettings) -> SwingSettings:
    members = tuple(dataclasses.replace(m, parameters={}) for m in settings.ensemble.members)
    return dataclasses.replace(
        settings, ensemble=dataclasses.replace(settings.ensemble, members=members)
    )


@pytest.mark.parametrize(
    ("path", "suggestion"),
    [
        (("risk", "max_exposur"), "Unknown key swing.risk.max_exposur; did you mean max_exposure?"),
        (
            ("labels", "barier_pct"),
            "Unknown key swing.labels.barier_pct; did you mean barrier_pct?",
        ),
        (("ensemble", "optuna", "trails"), "swing.ensemble.optuna.trails; did you mean trials?"),
        (
            ("portfolio", "target_vol"),
            "swing.portfolio.target_vol; did you mean target_volatility?",
        ),
        (("selftrain", "rollback_drawdwn"), "did you mean rollback_drawdown?"),
        (("riks",), "Unknown key swing.riks; did you mean risk?"),
    ],
)
def test_an_unknown_key_suggests_the_closest_one(path: tuple[str, ...], suggestion: str) -> None:
    block: dict[str, Any] = {}
    inner = block
    for key in path[:-1]:
        inner = inner.setdefault(key, {})
    inner[path[-1]] = 1
    with pytest.raises(SwingConfigError) as raised:
        load_swing_settings({"swing": block})
    message = str(raised.value)
    assert suggestion in message
    assert "\n" not in message, "one error, one line"


def test_a_member_key_and_a_ppo_argument_are_suggested_too() -> None:
    members = [{"name": "ppo", "parameters": {"vote_smoothin": 0.2}}]
    with pytest.raises(SwingConfigError, match="parameters.vote_smoothin; did you mean vote_"):
        load_swing_settings({"swing": {"ensemble": {"members": members}}})
    members = [{"name": "ppo", "parameters": {"ppo": {"n_step": 64}}}]
    with pytest.raises(SwingConfigError, match=r"parameters\.ppo\.n_step; did you mean n_steps\?"):
        load_swing_settings({"swing": {"ensemble": {"members": members}}})


def test_a_key_far_from_any_lists_the_known_ones() -> None:
    assert unknown_key_message("swing.risk.zzz", ["a", "b"]) == (
        "Unknown key swing.risk.zzz (known: a, b)"
    )


def test_several_errors_are_listed_one_per_line() -> None:
    with pytest.raises(SwingConfigError) as raised:
        load_swing_settings({"swing": {"risk": {"max_exposure": 2, "max_entries_per_day": 0}}})
    lines = str(raised.value).splitlines()
    assert sorted(lines[1:]) == [
        "  swing.risk.max_entries_per_day: Input should be greater than or equal to 1, got 0",
        "  swing.risk.max_exposure: Input should be less than or equal to 1, got 2",
    ]


@pytest.mark.parametrize(
    ("block", "named"),
    [
        ({"risk": {"enabled": 1}}, "swing.risk.enabled: Input should be a valid boolean"),
        ({"risk": {"max_exposure": "0.5"}}, "swing.risk.max_exposure: Input should be a valid"),
        ({"labels": {"horizon_candles": 2.5}}, "swing.labels.horizon_candles"),
        ({"model": {"seed": float("nan")}}, "swing.model.seed"),
    ],
)
def test_values_are_checked_as_strictly_as_a_json_schema(block: dict[str, Any], named: str) -> None:
    with pytest.raises(SwingConfigError, match=named):
        load_swing_settings({"swing": block})


def test_the_json_schema_is_derived_from_the_declarations() -> None:
    schema = swing_json_schema()
    definitions = schema["$defs"]
    risk = definitions["RiskSettings"]
    assert risk["additionalProperties"] is False
    assert set(risk["properties"]) == {item.name for item in dataclasses.fields(RiskSettings)}
    exposure = risk["properties"]["max_exposure"]
    assert exposure["default"] == RiskSettings.max_exposure
    assert exposure["exclusiveMinimum"] == 0 and exposure["maximum"] == 1
    assert exposure["description"]
    assert all(
        "description" in field
        for definition in definitions.values()
        for field in definition.get("properties", {}).values()
    ), "every setting says what it does"
    assert "PPOMemberSettings" not in definitions  # the member's block is checked on its own


def test_defaults_spelled_out_or_left_out_resolve_alike_and_keep_the_identifier() -> None:
    for names in [("base.json", "freqai.json"), ("base.json", "freqai.json", "ensemble-ppo.json")]:
        config = _merged(*names)
        settings = load_swing_settings(config)
        explicit = copy.deepcopy(config)
        explicit["swing"] = _spelled_out(settings)
        for member in explicit["swing"]["ensemble"]["members"]:
            if member["name"] == "ppo":
                resolved = dataclasses.asdict(PPOMemberSettings(**member["parameters"]))
                member["parameters"] = resolved
        spelled = load_swing_settings(explicit)
        # a member's block is kept as written; the ppo member resolves it on its own
        assert [ppo_member_settings(m.parameters) for m in spelled.ensemble.members] == [
            ppo_member_settings(m.parameters) for m in settings.ensemble.members
        ]
        assert _without_member_blocks(spelled) == _without_member_blocks(settings)
        assert settings_fingerprint(explicit) == settings_fingerprint(config), names


def test_no_shipped_config_repeats_a_default() -> None:
    defaults = dataclasses.asdict(SwingSettings())

    def repeated(block: dict[str, Any], base: dict[str, Any], where: str) -> list[str]:
        found = []
        for key, value in block.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                found += repeated(value, base[key], f"{where}.{key}")
            elif key in base and base[key] == value:
                found.append(f"{where}.{key}")
        return found

    for path in sorted(CONFIG_DIR.glob("*.json")):
        swing = json.loads(path.read_text()).get("swing", {})
        assert not repeated(swing, defaults, f"{path.name}:swing"), path.name
        for member in swing.get("ensemble", {}).get("members", []):
            assert member.get("enabled", False) is not True, path.name
            if member["name"] == "ppo":
                ppo_defaults = dataclasses.asdict(PPOMemberSettings())
                assert not repeated(member.get("parameters", {}), ppo_defaults, path.name)


def test_the_settings_objects_stay_frozen_dataclasses() -> None:
    settings = load_swing_settings({"swing": {"risk": {"max_exposure": 0.5}}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.risk.max_exposure = 0.9  # type: ignore[misc]
    changed = dataclasses.replace(settings.risk, enabled=False)
    assert changed.max_exposure == 0.5 and not changed.enabled
    with pytest.raises(ValueError, match="max_exposure"):
        dataclasses.replace(settings.risk, max_exposure=1.5)


_DOCUMENTED_TABLES = [
    ("parameters.md", "## `swing` block", SwingSettings),
    ("selftrain.md", "| `retrain_every_days`", SelfTrainSettings),
    ("portfolio.md", "| `lookback_days`", PortfolioSettings),
    ("ensemble.md", "| `ppo` member `parameters` key", PPOMemberSettings),
]


_LITERALS = frozenset({"true", "false", "null"})


def _documented_defaults(text: str, start: str) -> dict[str, str]:
    """``key -> default`` of the first table at or after ``start`` (first two columns)."""
    lines = text[text.index(start) :].splitlines()
    rows: dict[str, str] = {}
    for line in lines[1:] if start.startswith("#") else lines:
        if rows and not line.startswith("|"):
            break
        match = re.match(r"\| `([a-z_.]+)` \| ([^|]+) \|", line)
        if match:
            rows[match.group(1)] = match.group(2).strip()
    return rows


def _declared(cls: type[Any], path: str) -> Any:
    value: Any = cls()
    for part in path.split("."):
        value = getattr(value, part)
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value


@pytest.mark.parametrize(("page", "start", "cls"), _DOCUMENTED_TABLES, ids=lambda x: str(x)[:20])
def test_the_documented_defaults_are_the_declared_ones(page: str, start: str, cls: type) -> None:
    rows = _documented_defaults((DOCS_DIR / page).read_text(), start)
    assert len(rows) >= 5, rows
    for key, cell in rows.items():
        written = re.match(r"`?([^`(]+?)`?(?: \(|$)", cell)
        if written is None or cell.split()[0].isalpha() and cell.split()[0] not in _LITERALS:
            continue  # prose ("all six")
        try:
            documented = json.loads(written.group(1))
        except ValueError:
            documented = written.group(1).strip('"')
        declared = _declared(cls, key)
        if isinstance(declared, tuple):
            declared = list(declared)
        if isinstance(declared, dict) and documented == {}:
            continue  # "{}" documents an empty block whose keys take their own defaults
        assert documented == declared, f"docs/{page}: {key} says {cell}, declared {declared!r}"
