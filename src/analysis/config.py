"""Paths and the one typed settings object, with every default in one place."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from analysis.schemas import QUOTA_TYPES

PACKAGE_DIR = Path(__file__).resolve().parent
PRESETS_DIR = PACKAGE_DIR / "presets"
PLANS_DIR = PACKAGE_DIR / "plans"  # bundled compensation plans
#: The repository root when installed editable from a clone (src layout); used only for defaults.
PROJECT_DIR = PACKAGE_DIR.parents[1]
DEMO_DIR = PROJECT_DIR / "data" / "demo"
REPORTS_DIR = PROJECT_DIR / "reports"

#: Environment variable that holds a database password (never a parameter, never a file in the repo).
PASSWORD_ENV = "QUOTACAST_DB_PASSWORD"


#: The default ramp: a new hire's share of a ramped rep's quota and pace by quarter of tenure.
DEFAULT_RAMP: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)

_KINDS = {"int": "a whole number", "float": "a number", "str": "text", "tuple[float, ...]": "a list of numbers"}


@dataclass(frozen=True)
class Settings:
    """Every setting a run uses. Defaults live here only; override from a config file, the CLI or
    notebook parameters. Written whole into each run's manifest."""

    fiscal_year_start: int = 1  # first month of the fiscal year (1 = January)
    overassignment: float = 0.10  # sum of quotas = target x (1 + overassignment)
    attainment_share: float = 0.65  # share of reps expected to reach quota
    ramp_schedule: tuple[float, ...] = DEFAULT_RAMP  # quota share by quarter of tenure
    max_quota_change: float = 0.5  # largest quarter-on-quarter change of a rep's quota (share)
    quota_type: str = "bookings"  # bookings | won_deals | activities | margin
    comp_plan: str = "standard"  # compensation plan: a bundled plan (standard | flat-rate | enterprise) or a YAML file
    gonik_coefficients: tuple[float, ...] = (1.2, 0.6, 1.8)  # beta, alpha, gamma of the Gonik goal-bonus view
    consecutive_misses: int = 2  # quarters below quota before a rep is flagged
    interval: float = 0.90  # width of reported intervals
    backtest_quarters: int = 6  # most past quarters the forecast backtest replays (fewer when the history is shorter; 0: none)
    policy_backtest_quarters: int = 6  # most past quarters the quota policy backtest replays (fewer when the history is shorter; 0: none)
    horizon: int = 4  # quarters after the as-of date to forecast
    recalibrate_quarters: int = 4  # past quarters a recalibrated pipeline variant learns from (0: no such variant)
    draws: int = 2000  # Monte Carlo draws per rep
    seed: int = 0
    currency: str = ""  # written before money on the pages: € , $, £, CHF (empty: no symbol, the data's own currency)

    @classmethod
    def from_parameters(cls, namespace: dict[str, Any]) -> Settings:
        """Settings from a notebook's parameters (its ``globals()``): every field found there, lists as tuples; the
        rest keep their defaults."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        given = {k: namespace[k] for k in fields if k in namespace}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})

    def __post_init__(self) -> None:
        problems = self._type_problems()
        if problems:
            raise ValueError("Invalid settings: " + "; ".join(problems))
        if not 1 <= self.fiscal_year_start <= 12:
            problems.append(f"fiscal_year_start must be a month 1-12, got {self.fiscal_year_start!r}")
        if not 0 <= self.overassignment <= 1:
            problems.append(f"overassignment must be between 0 and 1, got {self.overassignment!r}")
        if not 0 < self.attainment_share < 1:
            problems.append(f"attainment_share must be strictly between 0 and 1, got {self.attainment_share!r}")
        if not self.ramp_schedule or any(not 0 <= r <= 1 for r in self.ramp_schedule):
            problems.append(f"ramp_schedule must be shares between 0 and 1, got {self.ramp_schedule!r}")
        if not 1 <= self.horizon <= 8:
            problems.append(f"horizon must be 1 to 8 quarters, got {self.horizon!r}")
        if not 0 < self.interval < 1:
            problems.append(f"interval must be strictly between 0 and 1, got {self.interval!r}")
        g = self.gonik_coefficients
        if len(g) != 3 or not 0 < g[1] < g[0] < g[2]:
            problems.append(f"gonik_coefficients must be beta, alpha, gamma with 0 < alpha < beta < gamma, got {g!r}")
        if self.max_quota_change is not None and not self.max_quota_change > 0:
            problems.append(f"max_quota_change must be a positive share (0.5 is ±50 %), got {self.max_quota_change!r}")
        for name, low, high in (
            ("draws", 100, 200_000),
            ("seed", 0, 2**32 - 1),
            ("backtest_quarters", 0, 20),
            ("policy_backtest_quarters", 0, 20),
            ("recalibrate_quarters", 0, 12),
            ("consecutive_misses", 1, 12),
        ):
            if not low <= getattr(self, name) <= high:
                problems.append(f"{name} must be a whole number from {low} to {high:,}, got {getattr(self, name)!r}")
        if len(self.currency) > 4 or self.currency != self.currency.strip() or any(c.isdigit() or c in "<>&'\"" for c in self.currency):
            problems.append(f"currency must be a symbol or code of at most 4 characters without digits (€, $, CHF), got {self.currency!r}")
        if self.quota_type not in QUOTA_TYPES:
            problems.append(f"quota_type must be bookings, won_deals, activities or margin, got {self.quota_type!r}")
        if problems:
            raise ValueError("Invalid settings: " + "; ".join(problems))

    def _type_problems(self) -> list[str]:
        """Each setting's type (a YAML file or ``--param`` can give anything): whole numbers for ints, numbers for
        floats (not booleans), text for strings, lists of numbers for tuples."""
        out = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None and f.name == "max_quota_change":  # no cap
                continue
            ok = {
                "int": isinstance(v, int) and not isinstance(v, bool),
                "float": isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf"),
                "str": isinstance(v, str),
                "tuple[float, ...]": isinstance(v, tuple) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v),
            }.get(str(f.type), True)
            if not ok:
                out.append(f"{f.name} must be {_KINDS.get(str(f.type), f.type)}, got {v!r}")
        return out

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> Settings:
        """Read settings from a YAML file; unknown keys are refused, ``overrides`` win."""
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"settings file {path}: cannot be read ({str(exc).splitlines()[0]})") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping of setting: value, got {type(raw).__name__}")
        return cls.from_dict({**raw, **overrides}, origin=str(path))

    @classmethod
    def from_dict(cls, values: dict[str, Any], origin: str = "settings") -> Settings:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{origin}: unknown setting(s) {unknown}; known settings are {sorted(known)}")
        values = dict(values)
        for key in ("ramp_schedule", "gonik_coefficients"):
            if key in values and isinstance(values[key], (list, tuple)):
                values[key] = tuple(values[key])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["ramp_schedule"] = list(self.ramp_schedule)
        out["gonik_coefficients"] = list(self.gonik_coefficients)
        return out
