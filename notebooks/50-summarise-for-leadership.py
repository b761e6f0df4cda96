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
# # Summary for leadership

# %% tags=["remove_cell"]
import json
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from analysis import compensation, summary

# %% tags=["parameters"]
period: str = "2027Q1"  # fiscal quarter being planned
as_of: str = "2026-11-15"  # date the extract was taken: nothing dated later is used
fiscal_year_start: int = 1  # first month of the fiscal year (1 is January)
comp_plan: str = "standard"  # pay plan the cost of the quotas was computed with (bundled name or YAML file)
run_dir: str = "."  # folder this run wrote its tables into (read here, not recomputed)

# %% tags=["remove_cell"]
out = Path(run_dir)
metrics = pd.read_csv(out / "metrics.csv", keep_default_na=False, na_values=[""])
accounting = pd.read_csv(out / "accounting.csv")
numbers = summary.headline(metrics, as_of, fiscal_year_start)
forecast = pd.read_csv(out / "forecast.csv", keep_default_na=False, na_values=[""])
reach = pd.read_csv(out / "forecast_vs_target.csv")
display(Markdown(f"## Planning {period} · data as of {pd.Timestamp(as_of).date()}"))
display(Markdown(summary.forecast_sentence(forecast, reach, period)))
plan = json.loads((out / "quota_plan.json").read_text())
display(Markdown(summary.plan_sentence(plan)))

# %% tags=["remove_input"]
cost, pay = pd.read_csv(out / "compensation.csv", keep_default_na=False, na_values=[""]), compensation.resolve_plan(comp_plan)
if len(cost):
    display(Markdown(summary.cost_sentence(cost, pay.name, pay.variable)))

# %% [markdown]
# ## The numbers that matter

# %% tags=["remove_input"]
numbers.drop(columns="metric").style.hide(axis="index").set_properties(**{"text-align": "left"})

# %% tags=["remove_input"]
rows_in, used = int(accounting.rows_in.sum()), int(accounting.rows_used.sum())
display(Markdown(
    f"**Data quality:** {used:,} of {rows_in:,} rows used; {rows_in - used:,} quarantined with a reason "
    "(see the data check)."
))

# %% [markdown]
# ## Top risks

# %% tags=["remove_input"]
coaching = pd.read_csv(out / "coaching.csv")
risks = summary.top_risks(plan, reach, metrics, accounting, coaching, as_of, fiscal_year_start)
display(Markdown("\n".join(f"{i}. {r}" for i, r in enumerate(risks, 1)) or "No risk stands out this quarter."))

# %% [markdown]
# ## Detailed reports
# - [Data check](10-check-data.html): freshness and quarantined rows
# - [Pipeline metrics](20-measure-pipeline.html): trends, win rates, deal size, cycle, funnel, coverage, CAC
# - [Bookings forecast](30-forecast-bookings.html): the quarters ahead by team and segment, which model carries the forecast, and how past forecasts did
# - [Quota recommendation](40-recommend-quotas.html): each rep's quota, their chance of reaching it, the baselines, what the plan costs and what changes if the target moves; `quotas.xlsx` for sales operations

# %% tags=["remove_input"]
display(Markdown(summary.definitions_markdown(list(numbers["metric"]) + ["win_rate_cohort_naive", "required_coverage", "median_deal_size", "cac"])))
