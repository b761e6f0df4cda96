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
# # Trying quota settings (not scheduled)
# What over-assignment and attainment share do to next quarter's plan: the common chance of attaining, the
# quotas' total and the gap to target, for a grid of settings. Uses the same forecast and recommender as the
# scheduled run; nothing here is written to the reports.

# %%
import pandas as pd
import seaborn as sns

import analysis
from analysis import quota
from analysis.pipeline_model import PipelineForecaster

# %% tags=["parameters"]
data: str = "../../data/demo"  # data source: a folder of CSV/Parquet files or an SQLAlchemy URL
mapping: str = ""  # column mapping: maven | salesforce | hubspot | path to a YAML file
as_of: str = "2026-11-15"  # date the extract was taken
period: str = "next"  # quarter to plan (next is the quarter after the as-of date)
draws: int = 1000  # Monte Carlo draws per rep
overassignments: list = [0.0, 0.05, 0.1, 0.15, 0.2]  # over-assignment settings to compare
target_scale: list = [0.8, 0.9, 1.0, 1.1]  # the company target scaled by these

# %%
ds = analysis.load(data, mapping=mapping or None, as_of=as_of)
sims = PipelineForecaster(draws=draws, seed=0).fit(ds).predict(period)
rep_draws = sims.rep_draws()
inputs = quota.plan_inputs(ds, sims.period)
grid = pd.DataFrame(
    [
        {
            "overassignment": o,
            "target": inputs.target * s,
            "p_hat": quota.QuotaRecommender(overassignment=o).recommend(rep_draws, inputs.target * s).p_hat,
        }
        for o in overassignments
        for s in target_scale
    ]
)

# %% [markdown]
# ## Chance of attaining by setting
# Each line is a target; moving right adds over-assignment. The dashed line is the default attainment share.

# %%
ax = sns.lineplot(data=grid, x="overassignment", y="p_hat", hue="target", marker="o", palette="viridis")
ax.axhline(0.65, ls="--", color="black", lw=1)
ax.set(ylabel="common chance of attaining (p̂)", ylim=(0, 1))

# %%
grid.pivot(index="target", columns="overassignment", values="p_hat").round(2)
