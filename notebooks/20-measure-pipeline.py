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

from IPython.display import Markdown, display

import analysis
from analysis import plots, summary
from analysis.calendar import last_complete_period
from analysis.metrics import metrics_table
from analysis.survival import winner_curves_by

# %% tags=["parameters"]
data: str = "../data/demo"  # data source: a folder of CSV/Parquet files or an SQLAlchemy URL (password from QUOTACAST_DB_PASSWORD)
mapping: str = ""  # column mapping: maven | salesforce | hubspot | path to a YAML file (empty: the contract's own names)
period: str = "2027Q1"  # fiscal quarter being planned
as_of: str = "2026-11-15"  # date the extract was taken: nothing dated later is used
fiscal_year_start: int = 1  # first month of the fiscal year (1 is January)
interval: float = 0.9  # width of the intervals shown
run_dir: str = "."  # folder this run writes its tables into

# %% tags=["remove_cell"]
ds = analysis.load(data, mapping=mapping or None, as_of=as_of, fiscal_year_start=fiscal_year_start)
out = Path(run_dir)
table = metrics_table(ds, interval=interval)
table.to_csv(out / "metrics.csv", index=False)
display(Markdown(summary.header("Pipeline metrics", period, as_of, ds)))

# %% [markdown]
# ## Bookings and win rate
# The dashed line is the familiar win rate of deals closed in the quarter; the solid line estimates the
# eventual win rate of the deals **created** in the quarter, counting the ones still open, with its
# interval. Recent quarters have many open deals, so their estimates are wider.

# %% tags=["remove_input"]
for draw in (plots.bookings_trend, plots.win_rates):
    ax = draw(table)
    display(ax.figure)
    plots.close(ax)

# %% [markdown]
# ## Deal size and sales cycle
# Deal sizes are skewed: the average won deal is well above the typical one. The cycle curves show how
# long eventual winners take, counting the deals still open.

# %% tags=["remove_input"]
ax = plots.deal_sizes(ds.opportunities)
display(ax.figure)
plots.close(ax)
ax = plots.cycle_curves(winner_curves_by(ds.opportunities, ds.as_of_date, "segment"))
display(ax.figure)
plots.close(ax)

# %% [markdown]
# ## Funnel, coverage, attainment and acquisition cost

# %% tags=["remove_input"]
for draw in (plots.stage_funnel, plots.coverage, plots.attainment, plots.cac):
    ax = draw(table)
    display(ax.figure)
    plots.close(ax)

# %% [markdown]
# ## By segment, last complete quarter

# %% tags=["remove_input"]
last = last_complete_period(ds.as_of_date, fiscal_year_start)
shown = ["bookings", "win_rate", "win_rate_cohort", "avg_deal_size", "median_deal_size", "median_cycle_days", "cycle_days_cohort"]
seg = table[(table.dimension == "segment") & (table.period == last) & table.metric.isin(shown)]
seg.pivot(index="group", columns="metric", values="value")[[m for m in shown if m in set(seg.metric)]].round(3)

# %% tags=["remove_input"]
display(Markdown(summary.definitions_markdown(shown + ["stage_win_rate", "pipeline_coverage", "required_coverage", "attainment_rate", "cac", "cac_lagged", "cac_paid"])))
