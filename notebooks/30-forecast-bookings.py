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
# **Bookings forecast.** Next quarter's bookings as a distribution, not a single number: every deal open
# today is won inside the quarter with the chance its age and segment give (from how past deals fared),
# plus the deals each rep has yet to create, simulated thousands of times. Team and company figures are
# sums of the same simulations, so they add up. Below, the same method replayed on past quarters shows how
# far to trust it.

# %% tags=["remove_cell"]
from pathlib import Path

from IPython.display import Markdown, display

import analysis
from analysis import plots, summary
from analysis.backtest import backtest, quarterly_bookings, scores
from analysis.forecast import PipelineForecaster, versus_target

# %% tags=["parameters"]
data: str = "../data/demo"  # data source: a folder of CSV/Parquet files or an SQLAlchemy URL (password from QUOTACAST_DB_PASSWORD)
mapping: str = ""  # column mapping: maven | salesforce | hubspot | path to a YAML file (empty: the contract's own names)
period: str = "2027Q1"  # fiscal quarter being planned
as_of: str = "2026-11-15"  # date the extract was taken: nothing dated later is used
fiscal_year_start: int = 1  # first month of the fiscal year (1 is January)
draws: int = 2000  # Monte Carlo draws per rep
seed: int = 0  # random seed: the same seed and data give the same forecast
backtest_quarters: int = 6  # past quarters replayed to check the forecast
run_dir: str = "."  # folder this run writes its tables into

# %% tags=["remove_cell"]
ds = analysis.load(data, mapping=mapping or None, as_of=as_of, fiscal_year_start=fiscal_year_start)
out = Path(run_dir)
sims = PipelineForecaster(draws=draws, seed=seed).fit(ds).predict(period)
forecast = sims.table()
reach = versus_target(sims, ds.targets)
bt = backtest(ds, n=backtest_quarters, make=lambda: PipelineForecaster(draws=min(draws, 1000), seed=seed))

# %% tags=["remove_cell"]
forecast.to_csv(out / "forecast.csv", index=False)
sims.rep_draws().to_parquet(out / "rep_draws.parquet", index=False)
reach.to_csv(out / "forecast_vs_target.csv", index=False)
bt.to_csv(out / "backtest.csv", index=False)
display(Markdown(summary.header("Bookings forecast", period, as_of, ds)))
display(Markdown(summary.forecast_sentence(forecast, reach, period)))

# %% tags=["remove_input"]
target = reach.loc[reach.level == "company", "target"]
ax = plots.forecast_fan(quarterly_bookings(ds, "company"), forecast, target.iloc[0] if len(target) else None)
display(ax.figure)
plots.close(ax)
ax = plots.team_ranges(forecast, reach[reach.level == "team"].set_index("group")["target"])
display(ax.figure)
plots.close(ax)

# %% [markdown]
# ## How past forecasts did
# For each of the last quarters, the data were cut back to the day before the quarter began and the
# forecast was made again, seeing nothing later. MASE below 1 means the forecast beat repeating last
# year's quarter; the 80 % range should hold the outcome about 8 times in 10.

# %% tags=["remove_input"]
ax = plots.backtest_chart(bt)
display(ax.figure)
plots.close(ax)
scores(bt).round(3)

# %% [markdown]
# ## Forecast by team and segment

# %% tags=["remove_input"]
forecast[forecast.level.isin(["company", "team", "segment"])].round(0)
