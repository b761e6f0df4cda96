# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# **Bookings forecast.** Next quarter's bookings as a distribution, not a single number. Two kinds of model
# look at it from different sides: the **pipeline model** takes every deal open today, wins it inside the
# quarter with the chance its age and segment give, adds the deals each rep has yet to create, and simulates
# that thousands of times (team and company figures are sums of the same simulations, so they add up); the
# **time-series models** (ETS, SARIMAX) read the history of quarterly bookings. The forecast shown combines
# them, each weighted by how well it did on past quarters, and the same replay shows how far to trust it.

# %% tags=["remove_cell"]
from pathlib import Path

import analysis
from analysis import plots, steps, summary
from analysis.present import section, show, table

# %% tags=["parameters"]
data: str = "../data/demo"  # data source: a folder of CSV/Parquet files or an SQLAlchemy URL (password from QUOTACAST_DB_PASSWORD)
mapping: str = ""  # column mapping: maven | salesforce | hubspot | path to a YAML file (empty: the contract's own names)
period: str = "2027Q1"  # fiscal quarter being planned
as_of: str = "2026-11-15"  # date the extract was taken: nothing dated later is used
fiscal_year_start: int = 1  # first month of the fiscal year (1 is January)
currency: str = ""  # written before money: €, $, £, CHF (empty: no symbol, the data's own currency)
horizon: int = 4  # quarters after the as-of date to forecast
draws: int = 2000  # Monte Carlo draws per rep
seed: int = 0  # random seed: the same seed and data give the same forecast
ramp_schedule: list = [0.25, 0.5, 0.75, 1.0]  # new hires' share of full productivity by quarter of tenure
backtest_quarters: int = 6  # most past quarters replayed to check the forecast (fewer when the history is shorter)
recalibrate_quarters: int = 4  # past quarters a recalibrated pipeline variant learns from (0 switches it off)
run_dir: str = "."  # folder this run writes its tables into

# %% tags=["remove_cell"]
ds = analysis.load(data, mapping=mapping or None, as_of=as_of, fiscal_year_start=fiscal_year_start)
settings = analysis.Settings.from_parameters(globals())
forecasted = steps.forecast(ds, settings, period, Path(run_dir))
notes = forecasted.notes
show(summary.header("Bookings forecast", period, as_of, ds))
show(forecasted.sentence)
show(forecasted.basis)

# %% tags=["remove_input"]
section(notes, "forecast_basis", plots.forecast_fan, forecasted.history, forecasted.fan, forecasted.target)
section(notes, "forecast_basis", plots.team_ranges, forecasted.headline, forecasted.team_targets)

# %% [markdown]
# ## This quarter, and month by month
# The pipeline model alone (the time-series models read whole quarters): the quarter under way counts what is
# already booked, and the planned quarter is split by calendar month. The quarter-end rush shows in its last month.

# %% tags=["remove_input"]
section(notes, "nowcast", show, forecasted.nowcast)
show(forecasted.calendar)
section(notes, "forecast_basis", table, forecasted.monthly, dict.fromkeys(["mean", "p10", "p50", "p90"], "money"))

# %% [markdown]
# ## Which model carries the forecast, and why

# %% tags=["remove_input"]
section(notes, "time_series")
show(forecasted.weights_text)
show(table(forecasted.weights, {"weight": "share", "n": "count", "cutoffs": "count"}))

# %% [markdown]
# ## How past forecasts did
# For each of the last quarters, the data were cut back to the end of the quarter before and every model
# forecast again, seeing nothing later; the combination used only the weights earlier quarters would have
# given. MASE below 1 means the forecast beat repeating last year's quarter; the 80 % range should hold the
# outcome about 8 times in 10.

# %% tags=["remove_input"]
show(forecasted.backtest_text)
section(notes, "backtest", plots.backtest_chart, forecasted.backtest)
show(table(forecasted.scores, {"bias": "share", "coverage_80": "share", "n": "count"}))

# %% [markdown]
# ## Are the deal probabilities honest?
# Every deal open at each past quarter end, grouped by the chance the model gave it of being won in the next
# quarter, against the share that was. The recalibrated variant corrects the chances with this comparison,
# learned from earlier quarters only.

# %% tags=["remove_input"]
section(notes, "calibration", plots.reliability_chart, forecasted.reliability)
section(notes, "calibration", show, forecasted.calibration_text)

# %% [markdown]
# ## Forecast by team and segment, and the quarters ahead

# %% tags=["remove_input"]
section(notes, "forecast_basis", table, forecasted.headline, dict.fromkeys(["mean", "p10", "p50", "p90"], "money"))
section(notes, "forecast_basis", table, forecasted.quarters_ahead, steps.QUARTERS_AHEAD_FORMATS)
