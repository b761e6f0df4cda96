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
from pathlib import Path

import analysis
from analysis import outputs, plots, steps, summary
from analysis.present import section, show

# %% tags=["parameters"]
data: str = "../data/demo"  # data source: a folder of CSV/Parquet files or an SQLAlchemy URL (password from QUOTACAST_DB_PASSWORD)
mapping: str = ""  # column mapping: maven | salesforce | hubspot | path to a YAML file (empty: the contract's own names)
period: str = "2027Q1"  # fiscal quarter being planned
as_of: str = "2026-11-15"  # date the extract was taken: nothing dated later is used
fiscal_year_start: int = 1  # first month of the fiscal year (1 is January)
currency: str = ""  # written before money: €, $, £, CHF (empty: no symbol, the data's own currency)
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
policy_backtest_quarters: int = 6  # most past quarters replayed to check the quota method (fewer when the history is shorter)
run_dir: str = "."  # folder of this run: reads rep_draws.parquet and metrics.csv, writes quotas.csv and quotas.xlsx

# %% tags=["remove_cell"]
ds = analysis.load(data, mapping=mapping or None, as_of=as_of, fiscal_year_start=fiscal_year_start)
settings = analysis.Settings.from_parameters(globals())
planned = steps.plan(ds, settings, period, outputs.read(run_dir, "rep_draws.parquet"), outputs.read(run_dir, "metrics.csv"), Path(run_dir))
notes, quotas, shown, labels = planned.notes, planned.plan.quotas, planned.shown, planned.labels
show(summary.header("Quota recommendation", period, as_of, ds))
show(planned.sentence)

# %% tags=["remove_input"]
show(plots.quota_vs_forecast(quotas, planned.teams))
show(plots.attainment_chances(quotas))

# %% [markdown]
# ## Targets, team by team
# Teams with their own target are planned first, each at its own common chance; the other reps share what
# is left of the company target. **Gap**: how much the quotas ask beyond what would let the set share of reps
# attain (negative: room to spare).

# %% tags=["remove_input"]
section(notes, "quota_target", shown["pools"].page, steps.POOL_FORMATS, labels)

# %% [markdown]
# ## The methods side by side
# Expected share of reps attaining, and how unequal the chances are across reps (min, max, spread).

# %% tags=["remove_input"]
show(shown["methods"].page(steps.METHOD_FORMATS, labels))

# %% [markdown]
# ## What the plan costs
# Variable pay under the pay plan, over the same simulated quarters as the forecast: each rep's expected pay
# under each quota method, the company's total with its 80 % range, and cost of sales (variable pay ÷ bookings).

# %% tags=["remove_input"]
section(notes, "pay", plots.payout_by_method, planned.cost, planned.pay_plan.variable)
show(planned.cost_text)
section(notes, "pay", shown["cost"].page, steps.COST_FORMATS, labels)

# %% [markdown]
# ## What if the settings move?
# The same forecast re-planned for other targets and over-assignments (today's plan is the red star): where
# the share of reps expected to attain falls below the dashed line, the target stops being realistic.

# %% tags=["remove_input"]
section(notes, "what_if", plots.what_if_sweep, planned.sweep)
section(notes, "what_if", shown["what_if"].page, {}, labels)

# %% [markdown]
# ## Ramping hires
# New hires are planned at their ramp (their forecast already grows with tenure). Capacity counted as
# headcount × a full quota overstates what the team can carry; the ramp-adjusted capacity is what it can.

# %% tags=["remove_input"]
section(notes, "ramp", plots.ramp_capacity, planned.ramp)
show(planned.ramp_text)
show(shown["ramp"].page(steps.RAMP_FORMATS, labels))

# %% [markdown]
# ## Bottom-up goals
# Reps' own goals against their own forecasts (a goal below the forecast's 25th percentile may be
# sandbagging, above its 90th over-reach), and the collective goal against the leader's target, added up with
# the simulated draws rather than medians. **Gonik view:** if goals were paid with Gonik's scheme, a rep earns
# most by stating the quantile of their own belief given in the sentence; the last table shows where each goal
# sits in the rep's forecast, the goal the scheme rewards, and the expected payout (percent of the standard bonus).

# %% tags=["remove_input"]
section(notes, "goals", plots.goals_vs_forecast, quotas, planned.gonik)
section(notes, "goals", show, planned.goals_text)
section(notes, "goals", shown["rollup"].page, steps.ROLLUP_FORMATS, labels)
section(notes, "goals", shown["goals"].page, steps.GONIK_FORMATS, labels)

# %% [markdown]
# ## Would it have worked? Past quarters replayed
# Each of the last quarters, replayed with only what was known the day before it began: quotas set with
# each method, then compared with what the reps actually achieved. With equal-chance quotas the share of
# reps who attained should be close to the chance the plan stated.

# %% tags=["remove_input"]
section(notes, "policy_backtest", plots.policy_replay, planned.replay, settings.attainment_share)
section(notes, "policy_backtest", shown["replay"].page, steps.REPLAY_FORMATS, labels)

# %% [markdown]
# ## Attainment history, reps who need attention, and the leaderboard
# Each rep's bookings against quota in recent quarters; reps below quota several quarters in a row (last
# complete quarter), the gap, and which driver — deals created, win rate or deal size — explains most of the
# shortfall against their team; and recognition for the highest attainment and the most improved.

# %% tags=["remove_input"]
section(notes, "attainment_history", plots.attainment_history, planned.history)
section(notes, "attainment_history", shown["coaching"].page, steps.COACHING_FORMATS, labels)
section(notes, "attainment_history", shown["leaderboard"].page, steps.LEADERBOARD_FORMATS, labels)

# %% [markdown]
# ## Each rep's quota and why

# %% tags=["remove_input"]
show(shown["quotas"].page(planned.quota_formats, labels))
