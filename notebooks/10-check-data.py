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
# **Data check.**
#
# Where the numbers come from, how fresh they are, and which rows could not be used. Rows that break a rule
# of the data contract are **quarantined with a reason**, never silently dropped: for every table,
# rows in = rows used + rows quarantined.

# %% tags=["remove_cell"]
from pathlib import Path

import analysis
from analysis import plots, steps, summary
from analysis.present import show, table

# %% tags=["parameters"]
data: str = "../data/demo"  # data source: a folder of CSV/Parquet files or an SQLAlchemy URL (password from QUOTACAST_DB_PASSWORD)
mapping: str = ""  # column mapping: maven | salesforce | hubspot | path to a YAML file (empty: the contract's own names)
period: str = "2027Q1"  # fiscal quarter being planned
as_of: str = "2026-11-15"  # date the extract was taken: nothing dated later is used
fiscal_year_start: int = 1  # first month of the fiscal year (1 is January)
quota_type: str = "bookings"  # what quotas count: bookings | won_deals | activities | margin
backtest_quarters: int = 6  # most past quarters replayed to check the forecast
policy_backtest_quarters: int = 6  # most past quarters replayed to check the quota method
run_dir: str = "."  # folder this run writes its tables into

# %% tags=["remove_cell"]
ds = analysis.load(data, mapping=mapping or None, as_of=as_of, fiscal_year_start=fiscal_year_start)
settings = analysis.Settings.from_parameters(globals())
checked = steps.check(ds, settings, period, Path(run_dir))
show(summary.header("Data check", period, as_of, ds))
show(checked.history)

# %% [markdown]
# ## Freshness
# The last date each table holds, and how many days before the as-of date that is. A table that stops
# well before the as-of date may be a stale export.

# %% tags=["remove_input"]
show(table(checked.freshness, {"rows used": "count", "quarantined": "count", "days before as-of": "count"}))

# %% [markdown]
# ## Quarantined rows
# Each bar is a reason; `quarantine.csv` in this run's folder names the file, row, column and value of
# every one of them.

# %% tags=["remove_input"]
show(plots.quarantine(checked.quarantine))
show(table(checked.quarantine, {"rows": "count"}))

# %% [markdown]
# ## What these data can show
# Every section of the reports, what it needs, and whether these data serve it. A section the data cannot
# serve says so on its page, in the words of the last column.

# %% tags=["remove_input"]
show(table(checked.sections, hide=("key",)))
