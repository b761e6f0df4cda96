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
# **Quota recommendation.** Each rep's quota is set from that rep's own forecast so that every rep has the
# **same chance** of reaching it; that common chance is solved so the quotas add up to the company target
# plus over-assignment. Where that chance is lower than the share of reps we want to see attaining, the
# plan says so with numbers instead of hiding the gap. The traditional budget ÷ reps and last year plus
# growth are shown beside it, with each rep's chance under them.

# %% tags=["remove_cell"]
import json
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

import analysis
from analysis import plots, quota, summary
from analysis.calendar import last_complete_period, shift_period

# %% tags=["parameters"]
data: str = "../data/demo"  # data source: a folder of CSV/Parquet files or an SQLAlchemy URL (password from QUOTACAST_DB_PASSWORD)
mapping: str = ""  # column mapping: maven | salesforce | hubspot | path to a YAML file (empty: the contract's own names)
period: str = "2027Q1"  # fiscal quarter being planned
as_of: str = "2026-11-15"  # date the extract was taken: nothing dated later is used
fiscal_year_start: int = 1  # first month of the fiscal year (1 is January)
overassignment: float = 0.1  # quotas add up to the target times one plus this
attainment_share: float = 0.65  # share of reps that should reach quota
ramp_schedule: list = [0.25, 0.5, 0.75, 1.0]  # new hires' share of full productivity by quarter of tenure
backtest_quarters: int = 6  # past quarters replayed to check the method
run_dir: str = "."  # folder of this run: reads rep_draws.parquet, writes quotas.csv and quotas.xlsx

# %% tags=["remove_cell"]
ds = analysis.load(data, mapping=mapping or None, as_of=as_of, fiscal_year_start=fiscal_year_start)
out = Path(run_dir)
inputs = quota.plan_inputs(ds, period, tuple(ramp_schedule))
recommender = quota.QuotaRecommender(overassignment=overassignment, attainment_share=attainment_share)
plan = recommender.recommend(pd.read_parquet(out / "rep_draws.parquet"), inputs.target, reps=inputs.reps,
                             last_year=inputs.last_year, goals=inputs.goals, period=period)

# %% tags=["remove_cell"]
plan.quotas.to_csv(out / "quotas.csv", index=False)
plan.methods.to_csv(out / "quota_methods.csv", index=False)
quota.to_excel(plan, out / "quotas.xlsx")
(out / "quota_plan.json").write_text(json.dumps(quota.plan_record(plan), indent=2))
display(Markdown(summary.header("Quota recommendation", period, as_of, ds)))
display(Markdown(summary.plan_sentence(quota.plan_record(plan))))

# %% tags=["remove_input"]
for ax in (plots.quota_vs_forecast(plan.quotas), plots.attainment_chances(plan.quotas)):
    display(ax.figure)
    plots.close(ax)

# %% [markdown]
# ## The methods side by side
# Expected share of reps attaining, and how unequal the chances are across reps (min, max, spread).

# %% tags=["remove_input"]
plan.methods.round(3)

# %% [markdown]
# ## Would it have worked? Past quarters replayed
# Each of the last quarters, replayed with only what was known the day before it began: quotas set with
# each method, then compared with what the reps actually booked. With equal-chance quotas the share of
# reps who attained should be close to the chance the plan stated.

# %% tags=["remove_input"]
replay = quota.policy_backtest(ds, n=backtest_quarters, attainment_share=attainment_share, overassignment=overassignment)
replay.to_csv(out / "policy_backtest.csv", index=False)
replay.groupby("method")[["expected_share", "realised_share", "within_20pct", "plan_vs_actual"]].mean().round(3)

# %% [markdown]
# ## Reps who need attention now
# Reps below quota two quarters or more in a row (last complete quarter), the gap, and which driver —
# deals created, win rate or deal size — explains most of the shortfall against their team.

# %% tags=["remove_input"]
metrics = pd.read_csv(out / "metrics.csv", keep_default_na=False, na_values=[""])
last = last_complete_period(ds.as_of_date, fiscal_year_start)
attention = quota.coaching(metrics, ds.reps, last)
attention.to_csv(out / "coaching.csv", index=False)
attention[["name", "team", "misses", "attainment", "gap", "pointer"]].round(2)

# %% [markdown]
# ## Leaderboard
# Attainment in the last complete quarter, with recognition for the highest attainment and the most improved.

# %% tags=["remove_input"]
quota.leaderboard(metrics, ds.reps, last, shift_period(last, -1, fiscal_year_start)).head(15).round(2)

# %% [markdown]
# ## Each rep's quota and why

# %% tags=["remove_input"]
plan.quotas[["name", "team", "quota", "p_attain", "forecast_p10", "forecast_p50", "forecast_p90", "ramp_factor", "goal", "flags", "reason"]].round(2)
