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
# **same chance** of reaching it; that common chance is solved so the quotas add up to the target plus
# over-assignment — team by team where a team has its own target. Where that chance is lower than the share
# of reps we want to see attaining, the plan says so with numbers instead of hiding the gap. The traditional
# budget ÷ reps and last year plus growth are shown beside it, with each rep's chance under them.

# %% tags=["remove_cell"]
import json
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

import analysis
from analysis import compensation, goals, monitoring, plots, quota, scenarios, summary
from analysis.calendar import last_complete_period, period_bounds, shift_period

# %% tags=["parameters"]
data: str = "../data/demo"  # data source: a folder of CSV/Parquet files or an SQLAlchemy URL (password from QUOTACAST_DB_PASSWORD)
mapping: str = ""  # column mapping: maven | salesforce | hubspot | path to a YAML file (empty: the contract's own names)
period: str = "2027Q1"  # fiscal quarter being planned
as_of: str = "2026-11-15"  # date the extract was taken: nothing dated later is used
fiscal_year_start: int = 1  # first month of the fiscal year (1 is January)
quota_type: str = "bookings"  # what quotas count: bookings | won_deals | activities | margin
overassignment: float = 0.1  # quotas add up to the target times one plus this
attainment_share: float = 0.65  # share of reps that should reach quota
max_quota_change: float = 0.5  # largest change of a rep's quota from last quarter, as a share (0.5 is 50 percent)
ramp_schedule: list = [0.25, 0.5, 0.75, 1.0]  # new hires' share of full productivity by quarter of tenure
comp_plan: str = "standard"  # pay plan: standard | flat-rate | enterprise (bundled) or a YAML file, see docs/compensation.md
gonik_coefficients: list = [1.2, 0.6, 1.8]  # beta, alpha, gamma of the Gonik goal bonus shown beside the goals
consecutive_misses: int = 2  # quarters below quota in a row before a rep is listed for attention
draws: int = 2000  # Monte Carlo draws per rep (quota types other than bookings are forecast here)
seed: int = 0  # random seed: the same seed and data give the same quotas
backtest_quarters: int = 6  # past quarters replayed to check the method
run_dir: str = "."  # folder of this run: reads rep_draws.parquet, writes quotas.csv and quotas.xlsx

# %% tags=["remove_cell"]
ds = analysis.load(data, mapping=mapping or None, as_of=as_of, fiscal_year_start=fiscal_year_start)
out = Path(run_dir)
inputs = quota.plan_inputs(ds, period, tuple(ramp_schedule), quota_type)
if quota_type == "bookings":
    rep_draws = pd.read_parquet(out / "rep_draws.parquet")  # the same draws as the bookings forecast
else:
    rep_draws = quota.forecaster_for(quota_type, draws, seed, tuple(ramp_schedule)).fit(ds).predict(period).rep_draws()
recommender = quota.QuotaRecommender(overassignment=overassignment, attainment_share=attainment_share,
                                     max_change=max_quota_change, quota_type=quota_type)
plan = recommender.recommend(rep_draws, inputs.target, reps=inputs.reps, last_year=inputs.last_year, goals=inputs.goals,
                             period=period, team_targets=inputs.team_targets, previous=inputs.previous)

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
# ## Targets, team by team
# Teams with their own target are planned first, each at its own common chance; the other reps share what
# is left of the company target. `gap`: how much the quotas ask beyond what would let the set share of reps
# attain (negative: room to spare).

# %% tags=["remove_input"]
plan.pools.round(3)

# %% [markdown]
# ## The methods side by side
# Expected share of reps attaining, and how unequal the chances are across reps (min, max, spread).

# %% tags=["remove_input"]
plan.methods.round(3)

# %% [markdown]
# ## What the plan costs
# Variable pay under the pay plan, over the same simulated quarters as the forecast: each rep's expected pay
# under each quota method, the company's total with its 80 % range, and cost of sales (variable pay ÷ bookings).

# %% tags=["remove_input"]
pay_plan = compensation.resolve_plan(comp_plan)
start = period_bounds(period, fiscal_year_start)[0]
cost = compensation.plan_costs(pay_plan, plan, rep_draws, inputs.reps, start)
cost.to_csv(out / "compensation.csv", index=False)
if len(cost):
    ax = plots.payout_by_method(cost, pay_plan.variable)
    display(ax.figure)
    plots.close(ax)
    display(Markdown(summary.cost_sentence(cost, pay_plan.name, pay_plan.variable)))
    display(cost[cost.level == "company"].drop(columns=["level", "rep_id"]).round(3))
else:
    display(Markdown(f"Pay is computed for bookings quotas; these quotas count {quota_type}."))

# %% [markdown]
# ## What if the settings move?
# The same forecast re-planned for other targets and over-assignments (today's plan is the red star): where
# the share of reps expected to attain falls below the dashed line, the target stops being realistic.

# %% tags=["remove_input"]
base = scenarios.prepare(rep_draws, inputs.reps, inputs.target, start, inputs.team_targets, inputs.previous, overassignment,
                         attainment_share, tuple(ramp_schedule), max_quota_change, "plan", quota_type, pay_plan if quota_type == "bookings" else None)
if inputs.target is not None:
    grid = scenarios.sweep(base, target=scenarios.target_grid(inputs.target), overassignment=sorted({0.0, 0.1, 0.2, overassignment}))
    grid.to_csv(out / "scenarios.csv", index=False)
    ax = plots.what_if_sweep(grid)
    display(ax.figure)
    plots.close(ax)
    display(grid.pivot(index="target", columns="overassignment", values="expected_share_attaining").round(2))

# %% [markdown]
# ## Ramping hires
# New hires are planned at their ramp (their forecast already grows with tenure). Capacity counted as
# headcount × a full quota overstates what the team can carry; the ramp-adjusted capacity is what it can.

# %% tags=["remove_input"]
ramp = quota.ramp_view(plan)
ax = plots.ramp_capacity(ramp)
display(ax.figure)
plots.close(ax)
display(Markdown(summary.ramp_sentence(ramp)))
ramp.round(0)

# %% [markdown]
# ## Bottom-up goals
# Reps' own goals against their own forecasts (a goal below the forecast's 25th percentile may be
# sandbagging, above its 90th over-reach), and the collective goal against the leader's target, added up with
# the simulated draws rather than medians.

# %% tags=["remove_input"]
beta, alpha, gamma = gonik_coefficients
if plan.quotas["goal"].notna().any():
    ax = plots.goals_vs_forecast(plan.quotas)
    display(ax.figure)
    plots.close(ax)
    rollup = goals.goals_rollup(rep_draws, inputs.goals, inputs.reps, inputs.target, inputs.team_targets)
    rollup.to_csv(out / "goals_rollup.csv", index=False)
    display(Markdown(summary.goals_sentence(rollup, goals.gonik_elicited_quantile(beta, alpha, gamma), (beta, alpha, gamma))))
    display(rollup.round(3))
else:
    display(Markdown(f"No goals were submitted for {period}."))

# %% [markdown]
# **Gonik view.** If goals were paid with Gonik's scheme, a rep earns most by stating the quantile of their
# own belief shown above. Below: where each goal sits in the rep's forecast, the goal the scheme rewards, and the
# expected payout (percent of the standard bonus) of each, if our forecast were the rep's belief.

# %% tags=["remove_input"]
if plan.quotas["goal"].notna().any():
    gonik = goals.goal_positions(rep_draws, inputs.goals, plan.quotas.set_index("rep_id")["quota"], beta, alpha, gamma)
    display(gonik.sort_values("goal_quantile").round(2))

# %% [markdown]
# ## Would it have worked? Past quarters replayed
# Each of the last quarters, replayed with only what was known the day before it began: quotas set with
# each method, then compared with what the reps actually achieved. With equal-chance quotas the share of
# reps who attained should be close to the chance the plan stated.

# %% tags=["remove_input"]
replay = quota.policy_backtest(ds, n=backtest_quarters, attainment_share=attainment_share, overassignment=overassignment,
                               quota_type=quota_type)
replay.to_csv(out / "policy_backtest.csv", index=False)
ax = plots.policy_replay(replay, attainment_share)
display(ax.figure)
plots.close(ax)
replay.groupby("method")[["expected_share", "realised_share", "within_20pct", "plan_vs_actual"]].mean().round(3)

# %% [markdown]
# ## Attainment history
# Each rep's bookings against quota in recent quarters.

# %% tags=["remove_input"]
metrics = pd.read_csv(out / "metrics.csv", keep_default_na=False, na_values=[""])
history = monitoring.attainment_history(metrics, ds.reps)
if len(history):
    ax = plots.attainment_history(history)
    display(ax.figure)
    plots.close(ax)

# %% [markdown]
# ## Reps who need attention now
# Reps below quota several quarters in a row (last complete quarter), the gap, and which driver —
# deals created, win rate or deal size — explains most of the shortfall against their team.

# %% tags=["remove_input"]
last = last_complete_period(ds.as_of_date, fiscal_year_start)
attention = monitoring.coaching(metrics, ds.reps, last, min_misses=consecutive_misses)
attention.to_csv(out / "coaching.csv", index=False)
attention[["name", "team", "misses", "attainment", "gap", "pointer"]].round(2)

# %% [markdown]
# ## Leaderboard
# Attainment in the last complete quarter, with recognition for the highest attainment and the most improved.

# %% tags=["remove_input"]
monitoring.leaderboard(metrics, ds.reps, last, shift_period(last, -1, fiscal_year_start)).head(15).round(2)

# %% [markdown]
# ## Each rep's quota and why

# %% tags=["remove_input"]
plan.quotas[["name", "team", "quota", "p_attain", "forecast_p10", "forecast_p50", "forecast_p90", "ramp_factor", "goal", "flags", "reason"]].round(2)
