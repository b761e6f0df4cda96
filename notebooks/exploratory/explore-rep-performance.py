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
# # Exploring rep performance (not scheduled)
# A scratchpad for analysts: how far apart reps really are once small samples are taken into account.
# Per-rep win rates from a handful of deals are noisy; the shrunk rates (empirical Bayes, docs/methods.md §2.7) pull
# each rep toward the typical rep by as much as their sample is small. Change the parameters and re-run.

# %%
import matplotlib.pyplot as plt
import seaborn as sns

import analysis
from analysis import plots
from analysis.calendar import last_complete_period
from analysis.metrics import metrics_table
from analysis.survival import winner_curves_by

# %% tags=["parameters"]
data: str = "../../data/demo"  # data source: a folder of CSV/Parquet files or an SQLAlchemy URL
mapping: str = ""  # column mapping: maven | salesforce | hubspot | path to a YAML file
as_of: str = "2026-11-15"  # date the extract was taken
group_by: str = "segment"  # an opportunities column to split the cycle curves by: segment | lead_source | product | region

# %%
ds = analysis.load(data, mapping=mapping or None, as_of=as_of)
table = metrics_table(ds, dimensions=("company", "rep"))
last = last_complete_period(ds.as_of_date, ds.fiscal_year_start)
reps = table[(table.dimension == "rep") & (table.period == last)].pivot(index="group", columns="metric", values="value")

# %% [markdown]
# ## Raw against shrunk win rates
# Each dot is a rep in the last complete quarter. Reps with few closed deals sit far from the diagonal: their
# raw rate says more about luck than skill.

# %%
fig, ax = plt.subplots(figsize=(5, 5))
sns.scatterplot(data=reps, x="win_rate", y="win_rate_shrunk", ax=ax)
ax.axline((0, 0), slope=1, color="grey", lw=0.8)
ax.set(title=f"Win rate per rep, {last}", xlabel="raw (won / closed)", ylabel="shrunk toward the typical rep")

# %% [markdown]
# ## How long winners take, by group

# %%
ax = plots.cycle_curves(winner_curves_by(ds.opportunities, ds.as_of_date, group_by))

# %% [markdown]
# ## The reps furthest from their team
# Shrunk win rate and deal size next to bookings and attainment.

# %%
cols = [c for c in ["bookings", "quota_attainment", "win_rate_shrunk", "avg_deal_size_shrunk", "median_cycle_days"] if c in reps]
reps[cols].sort_values(cols[0], ascending=False).round(3)
