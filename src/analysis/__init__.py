"""Quotacast: sales metrics, bookings forecasts and realistic per-rep quotas from a CRM extract.

Importing the package has no side effects. The stages, in flow order:

- :mod:`analysis.data` — load a source, map it (:mod:`analysis.mapping`), validate it against the contract
  (:mod:`analysis.schemas`), quarantine bad rows, take as-of snapshots.
- :mod:`analysis.metrics` — the long metrics table (with :mod:`analysis.survival` and :mod:`analysis.shrinkage`).
- :mod:`analysis.forecast` — per-rep Monte Carlo forecasts; :mod:`analysis.backtest` rolling-origin scores.
- :mod:`analysis.quota` — equal-chance quotas, baselines, policy backtest; :mod:`analysis.goals` bottom-up goals
  and Gonik; :mod:`analysis.monitoring` attainment history, coaching, leaderboard.
- :mod:`analysis.compensation` — pay plans and what a quota plan costs; :mod:`analysis.scenarios` what-if sweeps.
- :mod:`analysis.report` — the quarterly run: notebooks, HTML, tables, manifest (:mod:`analysis.plots`,
  :mod:`analysis.summary` for the pages).
- :mod:`analysis.demo` — a seeded synthetic company in the data contract's format; :mod:`analysis.cli` the command.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("quotacast")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

from analysis.config import Settings
from analysis.data import Dataset, DataError, load

__all__ = ["Dataset", "DataError", "Settings", "load", "__version__"]
