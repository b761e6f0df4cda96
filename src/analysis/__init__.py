"""Quotacast: sales metrics, bookings forecasts and realistic per-rep quotas from a CRM extract.

Importing the package has no side effects. The stages, in flow order:

- :mod:`analysis.data` — load a source, map it (:mod:`analysis.mapping`), validate it against the contract
  (:mod:`analysis.schemas`), quarantine bad rows, take as-of snapshots.
- :mod:`analysis.metrics` — the long metrics table, its families in :mod:`analysis.outcomes`, :mod:`analysis.funnel`,
  :mod:`analysis.pipeline`, :mod:`analysis.attainment` and :mod:`analysis.acquisition` (with :mod:`analysis.survival`
  and :mod:`analysis.shrinkage`).
- :mod:`analysis.forecast` — the forecast (pipeline and time-series models, backtests, combination);
  :mod:`analysis.pipeline_model` per-rep Monte Carlo forecasts; :mod:`analysis.backtest` rolling-origin scores.
- :mod:`analysis.quota` — equal-chance quotas, baselines, policy backtest; :mod:`analysis.goals` bottom-up goals
  and Gonik; :mod:`analysis.monitoring` attainment history, coaching, leaderboard.
- :mod:`analysis.compensation` — pay plans and what a quota plan costs; :mod:`analysis.scenarios` what-if sweeps.
- :mod:`analysis.steps` — the run's steps (check, measure, forecast, plan, summarise), each a result object the
  notebooks display; :mod:`analysis.sections` what each report section needs and says without it;
  :mod:`analysis.history` how many complete quarters the data cover; :mod:`analysis.outputs` every file a run
  writes; :mod:`analysis.preflight` what the run needs, checked by ``validate`` and ``run`` before anything runs.
- :mod:`analysis.report` — the quarterly run: notebooks, HTML, tables, manifest (:mod:`analysis.plots`,
  :mod:`analysis.summary` and :mod:`analysis.present` for the pages).
- :mod:`analysis.demo` — a seeded synthetic company in the data contract's format; :mod:`analysis.variants` the
  same company in the shapes real extracts take (the data zoo); :mod:`analysis.cli` the command.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("quotacast")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

from analysis.config import Settings
from analysis.data import DataError, Dataset, load

__all__ = ["Dataset", "DataError", "Settings", "load", "__version__"]
