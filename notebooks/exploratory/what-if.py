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
# # What if? (not scheduled)
# Move the sliders: the quota plan is re-made from the same forecast for the target, over-assignment,
# attainment share, ramp schedule and pay plan you choose, and its headline updates. Open in JupyterLab
# (`make lab`). The logic is `analysis.scenarios.what_if` (tested in the package); this notebook only wires
# widgets to it. See docs/compensation.md for what each number means.

# %%
import ipywidgets as widgets
from IPython.display import Markdown, display

import analysis
from analysis import compensation, quota, scenarios, summary
from analysis.calendar import period_bounds
from analysis.pipeline_model import PipelineForecaster

# %% tags=["parameters"]
data: str = "../../data/demo"  # data source: a folder of CSV/Parquet files or an SQLAlchemy URL
mapping: str = ""  # column mapping: maven | salesforce | hubspot | path to a YAML file
as_of: str = "2026-11-15"  # date the extract was taken
period: str = "next"  # quarter to plan (next is the quarter after the as-of date)
draws: int = 1000  # Monte Carlo draws per rep

# %%
ds = analysis.load(data, mapping=mapping or None, as_of=as_of)
sims = PipelineForecaster(draws=draws, seed=0).fit(ds).predict(period)
inputs = quota.plan_inputs(ds, sims.period)
base = scenarios.prepare(
    sims.rep_draws(),
    inputs.reps,
    inputs.target,
    period_bounds(sims.period, ds.fiscal_year_start)[0],
    inputs.team_targets,
    inputs.previous,
    max_change=0.5,
    comp_plan=compensation.resolve_plan("standard"),
)

# %%
T, plans = inputs.target, {name: compensation.resolve_plan(name) for name in compensation.bundled_plans()}
controls = {
    "target": widgets.FloatSlider(value=T, min=0.5 * T, max=1.5 * T, step=T / 100, description="target", readout_format=",.0f"),
    "overassignment": widgets.FloatSlider(value=0.10, min=0.0, max=0.5, step=0.01, description="over-assign"),
    "attainment_share": widgets.FloatSlider(value=0.65, min=0.3, max=0.9, step=0.01, description="aim"),
    "ramp_schedule": widgets.Dropdown(
        options={"25/50/75/100 %": (0.25, 0.5, 0.75, 1.0), "0/50/100 %": (0.0, 0.5, 1.0), "no ramp": (1.0,)}, description="ramp"
    ),
    "comp_plan": widgets.Dropdown(options=plans, value=plans["standard"], description="pay plan"),
}
shown = widgets.interactive_output(lambda **s: display(Markdown(summary.what_if_markdown(scenarios.what_if(base, **s)))), controls)
display(widgets.VBox(list(controls.values())), shown)
