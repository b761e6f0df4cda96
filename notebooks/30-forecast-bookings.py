# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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

from IPython.display import Markdown, display

import analysis
from analysis import plots, series, summary
from analysis.backtest import calibration, reliability, scores
from analysis.forecast import versus_target

# %% tags=["parameters"]
data: str = "../data/demo"  # data source: a folder of CSV/Parquet files or an SQLAlchemy URL (password from QUOTACAST_DB_PASSWORD)
mapping: str = ""  # column mapping: maven | salesforce | hubspot | path to a YAML file (empty: the contract's own names)
period: str = "2027Q1"  # fiscal quarter being planned
as_of: str = "2026-11-15"  # date the extract was taken: nothing dated later is used
fiscal_year_start: int = 1  # first month of the fiscal year (1 is January)
horizon: int = 4  # quarters after the as-of date to forecast
draws: int = 2000  # Monte Carlo draws per rep
seed: int = 0  # random seed: the same seed and data give the same forecast
ramp_schedule: list = [0.25, 0.5, 0.75, 1.0]  # new hires' share of full productivity by quarter of tenure
backtest_quarters: int = 6  # past quarters replayed to check the forecast
recalibrate_quarters: int = 4  # past quarters a recalibrated pipeline variant learns from (0 switches it off)
run_dir: str = "."  # folder this run writes its tables into

# %% tags=["remove_cell"]
ds = analysis.load(data, mapping=mapping or None, as_of=as_of, fiscal_year_start=fiscal_year_start)
out = Path(run_dir)
result = series.forecast_report(ds, period, horizon, draws, seed, backtest_quarters, tuple(ramp_schedule), recalibrate_quarters)
forecast, headline = result.table, result.headline()
reach = versus_target(result.sims, *ds.targets_for(period))

# %% tags=["remove_cell"]
forecast.to_csv(out / "forecast.csv", index=False)
result.sims.rep_draws().to_parquet(out / "rep_draws.parquet", index=False)
reach.to_csv(out / "forecast_vs_target.csv", index=False)
result.backtest.to_csv(out / "backtest.csv", index=False)
result.weights.to_csv(out / "forecast_weights.csv", index=False)
display(Markdown(summary.header("Bookings forecast", period, as_of, ds)))
display(Markdown(summary.forecast_sentence(forecast, reach, period)))

# %% tags=["remove_input"]
target = reach.loc[reach.level == "company", "target"]
ahead = forecast[forecast.method == "combined"] if (forecast.method == "combined").any() else forecast[forecast.method == "pipeline"]
ax = plots.forecast_fan(series.history(ds), ahead, target.iloc[0] if len(target) else None)
display(ax.figure)
plots.close(ax)
ax = plots.team_ranges(headline, reach[reach.level == "team"].set_index("group")["target"])
display(ax.figure)
plots.close(ax)

# %% [markdown]
# ## This quarter, and month by month
# The pipeline model alone (the time-series models read whole quarters): the quarter under way counts what is
# already booked, and the planned quarter is split by calendar month. The quarter-end rush shows in its last month.

# %% tags=["remove_input"]
display(Markdown(summary.nowcast_sentence(forecast, result.pipeline, result.pipeline_method)))
display(Markdown(summary.calendar_sentence(result.pipeline)))
monthly = forecast[(forecast.level == "company") & (forecast.method == result.pipeline_method) & forecast.period.str.contains("-")]
monthly[["period", "mean", "p10", "p50", "p90"]].set_index("period").round(0)

# %% [markdown]
# ## Which model carries the forecast, and why

# %% tags=["remove_input"]
display(Markdown(summary.weights_sentence(result.weights, result.pipeline_method)))
result.weights.round(3)

# %% [markdown]
# ## How past forecasts did
# For each of the last quarters, the data were cut back to the end of the quarter before and every model
# forecast again, seeing nothing later; the combination used only the weights earlier quarters would have
# given. MASE below 1 means the forecast beat repeating last year's quarter; the 80 % range should hold the
# outcome about 8 times in 10.

# %% tags=["remove_input"]
ax = plots.backtest_chart(result.backtest)
display(ax.figure)
plots.close(ax)
scores_by_method = result.backtest.groupby("method").apply(scores, include_groups=False).reset_index(level=0)
scores_by_method.pivot(index="method", columns="level", values=["mase", "bias", "coverage_80"]).round(2)

# %% [markdown]
# ## Are the deal probabilities honest?
# Every deal open at each past quarter end, grouped by the chance the model gave it of being won in the next
# quarter, against the share that was. The recalibrated variant corrects the chances with this comparison,
# learned from earlier quarters only.

# %% tags=["remove_input"]
cal = calibration(ds, backtest_quarters)
ax = plots.reliability_chart(reliability(cal))
display(ax.figure)
plots.close(ax)
display(Markdown(summary.calibration_sentence(cal)))

# %% [markdown]
# ## Forecast by team and segment, and the quarters ahead

# %% tags=["remove_input"]
headline[headline.level.isin(["company", "team", "segment"])].round(0)

# %% tags=["remove_input"]
forecast[(forecast.level == "company") & ~forecast.period.str.contains("-")].pivot(index="period", columns="method", values="p50").round(0)
