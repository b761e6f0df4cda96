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
from pathlib import Path

import analysis
from analysis import plots, slider, steps
from analysis.present import section, show, table

# %% tags=["parameters"]
period: str = "2027Q1"  # fiscal quarter being planned
as_of: str = "2026-11-15"  # date the extract was taken: nothing dated later is used
fiscal_year_start: int = 1  # first month of the fiscal year (1 is January)
currency: str = ""  # written before money: €, $, £, CHF (empty: no symbol, the data's own currency)
comp_plan: str = "standard"  # pay plan the cost of the quotas was computed with (bundled name or YAML file)
run_dir: str = "."  # folder this run wrote its tables into (read here, not recomputed)

# %% tags=["remove_cell"]
settings = analysis.Settings.from_parameters(globals())
summarised = steps.summarise(Path(run_dir), settings, period, as_of)
show(summarised.title)
show(summarised.forecast)
show(summarised.plan)
show(summarised.cost)

# %% [markdown]
# ## The forecast against the targets

# %% tags=["remove_input", "side_by_side"]
notes = summarised.notes
section(notes, "forecast_basis", plots.ranges_against_targets, summarised.ranges)
section(notes, "forecast_basis", plots.plan_realism, summarised.methods, summarised.aim)

# %% tags=["remove_input"]
show(summarised.teams_text)
section(notes, "versus_target", table, summarised.ranges, steps.RANGE_FORMATS, steps.RANGE_COLUMNS)

# %% [markdown] tags=["screen_only"]
# ## Move the target
# The same forecast re-planned for other targets and over-assignments (the quota page has the whole sweep).

# %% tags=["remove_input", "screen_only"]
section(summarised.notes, "what_if", slider.target_slider, summarised.sweep, summarised.aim)

# %% [markdown]
# ## The numbers that matter

# %% tags=["remove_input"]
show(table(summarised.numbers))
show(summarised.quality)

# %% [markdown]
# ## Top risks

# %% tags=["remove_input"]
show(summarised.risks_text)

# %% [markdown] tags=["screen_only"]
# ## Detailed reports
# - [Data check](10-check-data.html): freshness, quarantined rows, and what these data can show
# - [Pipeline metrics](20-measure-pipeline.html): trends, win rates, deal size, cycle, funnel, coverage, CAC
# - [Bookings forecast](30-forecast-bookings.html): the quarters ahead by team and segment, which model carries the forecast, and how past forecasts did
# - [Quota recommendation](40-recommend-quotas.html): each rep's quota, their chance of reaching it, the baselines, what the plan costs and what changes if the target moves; `quotas.xlsx` for sales operations

# %% tags=["remove_input", "screen_only"]
show(summarised.definitions)
