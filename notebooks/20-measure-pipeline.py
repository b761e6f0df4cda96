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
# **Pipeline metrics.**
#
# The numbers the sales organisation runs on, by quarter. Where the usual figure ignores deals that are
# still open (win rate, cycle length), the censoring-aware estimate is shown beside it. Every metric is
# defined in plain words at the end of the page.

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
interval: float = 0.9  # width of the intervals shown
run_dir: str = "."  # folder this run writes its tables into

# %% tags=["remove_cell"]
ds = analysis.load(data, mapping=mapping or None, as_of=as_of, fiscal_year_start=fiscal_year_start)
settings = analysis.Settings.from_parameters(globals())
measured = steps.measure(ds, settings, period, Path(run_dir))
notes = measured.notes
show(summary.header("Pipeline metrics", period, as_of, ds))

# %% [markdown]
# ## Bookings and win rate
# The dashed line is the familiar win rate of deals closed in the quarter; the solid line estimates the
# eventual win rate of the deals **created** in the quarter, counting the ones still open, with its
# interval. Recent quarters have many open deals, so their estimates are wider.

# %% tags=["remove_input"]
section(notes, "bookings", plots.bookings_trend, measured.metrics)
section(notes, "win_rates", plots.win_rates, measured.metrics)

# %% [markdown]
# ## Deal size and sales cycle
# Deal sizes are skewed: the average won deal is well above the typical one. The cycle curves show how
# long eventual winners take, counting the deals still open.

# %% tags=["remove_input"]
section(notes, "deal_sizes", plots.deal_sizes, measured.won)
section(notes, "cycle", plots.cycle_curves, measured.curves)

# %% [markdown]
# ## Funnel, coverage, attainment and acquisition cost

# %% tags=["remove_input"]
section(notes, "stage_funnel", plots.stage_funnel, measured.metrics)
section(notes, "coverage", plots.coverage, measured.metrics)
section(notes, "attainment", plots.attainment, measured.metrics)
section(notes, "cac", plots.cac, measured.metrics)

# %% [markdown]
# ## By segment, last complete quarter

# %% tags=["remove_input"]
section(notes, "segments", table, measured.segments, steps.SEGMENT_FORMATS)

# %% tags=["remove_input"]
show(measured.definitions)
