"""Field checks for config validation: each failed check adds one line naming where and which field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Checker:
    """Collects problems for one place in the config (`where`), sharing one list with its children."""

    source: str
    where: str = ""
    problems: list[str] = field(default_factory=list)

    def at(self, where: str) -> Checker:
        return Checker(self.source, where, self.problems)

    def add(self, key: str, message: str) -> None:
        place = ": ".join(p for p in (self.where, key) if p)
        self.problems.append(f"{self.source}: {place}: {message}")

    def table(self, raw: dict, key: str) -> dict:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            self.add(key, f"expected a table [{key}]")
            return {}
        return value

    def string(self, table: dict, key: str, default: Any, required: bool = False) -> Any:
        if key not in table:
            if required:
                self.add(key, "missing (required)")
            return default
        value = table[key]
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(key, f"expected a non-empty string, got {_show(value)}")
            return default
        return value

    def choice(self, table: dict, key: str, allowed: tuple[str, ...], default: Any, required: bool = False) -> Any:
        value = self.string(table, key, None, required)
        if value is None:
            return default
        if value not in allowed:
            self.add(key, f"{value!r} is not one of {', '.join(allowed)}")
            return default
        return value

    def number(self, table: dict, key: str, default: Any, above: float, at_most: float, integer: bool = False) -> Any:
        if key not in table:
            return default
        value = table[key]
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            self.add(key, f"expected {'an integer' if integer else 'a number'}, got {_show(value)}")
            return default
        if not above < value <= at_most:
            self.add(key, f"{value} is out of range: expected more than {above:g} and at most {at_most:g}")
            return default
        return value

    def position(self, table: dict, key: str) -> tuple[float, float] | None:
        if key not in table:
            return None
        value = table[key]
        numbers = isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        if not numbers or len(value) != 2:
            self.add(key, f"expected [latitude, longitude], got {_show(value)}")
            return None
        lat, lon = float(value[0]), float(value[1])
        if not -90 <= lat <= 90:
            self.add(key, f"latitude {lat:g} is out of range -90..90")
            return None
        if not -180 <= lon <= 180:
            self.add(key, f"longitude {lon:g} is out of range -180..180")
            return None
        return lat, lon

    def boolean(self, table: dict, key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.add(key, f"expected true or false, got {_show(value)}")
            return default
        return value

    def string_list(self, table: dict, key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(key, f"expected a list of strings, got {_show(value)}")
            return ()
        return tuple(value)


def check_keys(check: Checker, prefix: str, table: dict, allowed: set[str]) -> None:
    """Reject keys the schema does not know (typos would otherwise be silently ignored)."""
    for key in table:
        if key not in allowed:
            check.add(prefix + key, f"unknown key (expected one of {', '.join(sorted(allowed))})")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
