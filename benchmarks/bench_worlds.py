"""Accuracy over simulated companies unlike the demo, against their known truth (issue 14; docs/accuracy.md).

Each world (:mod:`analysis.worlds`) is written as an extract, loaded and run through the same steps the quarterly
job runs: the forecast (``forecast.forecast_report``, whose draws give the headline, the chance, the team ranges and
the quotas), then the quota plan and its pay. Against the world's true next-quarter distribution it scores, per
level (rep, team, company): the median's error, the 80 % range's coverage, CRPS (scaled by the true mean) and the
PIT histogram; the share of reps the plan says will attain against the true share under the true distribution;
and the plan's expected variable pay against the true. ``python -m benchmarks worlds [N] [--quick]`` (``--quick``:
the pipeline model alone, no backtests). Writes ``out/worlds*.csv``.
"""

from __future__ import annotations

import sys
import tempfile
import time

import numpy as np
import pandas as pd

from benchmarks.common import OUT

WORLDS = 20  # sampled worlds (8-12 quarters of history and 6), plus the short-history ones below
SHORT = ((101, 2), (102, 2), (103, 4), (104, 4))  # (seed, quarters)


def specs(n: int = WORLDS):
    from analysis import worlds

    out = [worlds.sample_spec(seed) for seed in range(1, n + 1)]
    out += [worlds.sample_spec(seed, quarters=q, name=f"world {seed}, {q} quarters") for seed, q in SHORT]
    return out


def run_world(spec, quick: bool = False, draws: int = 1000, model: dict | None = None) -> dict:
    """Score one world: per-group table, PIT values per level, and the plan's figures."""
    import analysis
    from analysis import compensation, demo, forecast, quota
    from analysis.calendar import period_bounds
    from analysis.config import Settings
    from analysis.judging import judge
    from analysis.pipeline_model import PipelineForecaster
    from analysis.worlds import build

    world = build(spec)
    truth = world.truth(draws=draws)
    with tempfile.TemporaryDirectory() as tmp:
        demo.write(world.tables(), tmp)
        ds = analysis.load(tmp, as_of=spec.as_of)
    settings = Settings()
    t = time.perf_counter()
    if quick:
        sims = (
            PipelineForecaster(draws=draws, seed=0, ramp_schedule=tuple(settings.ramp_schedule), **(model or {}))
            .fit(ds)
            .predict(world.period)
        )
        method = "pipeline"
    else:
        report = forecast.forecast_report(
            ds,
            world.period,
            horizon=1,
            draws=draws,
            backtest_quarters=min(settings.backtest_quarters, 6),
            ramp_schedule=tuple(settings.ramp_schedule),
            recalibrate_quarters=settings.recalibrate_quarters,
        )
        sims, method = report.sims, report.pipeline_method
    seconds = time.perf_counter() - t
    levels = {}
    for level, true in (("company", pd.DataFrame([truth.company], index=["all"])), ("team", truth.team), ("rep", truth.rep)):
        groups, m = sims.by(level)
        levels[level] = judge(pd.DataFrame(m, index=groups), true, level, seed=spec.seed)
    # The plan: quotas from the forecast's rep draws, judged under the true draws.
    inputs = quota.plan_inputs(ds, world.period, tuple(settings.ramp_schedule))
    rep_draws = sims.rep_draws()
    plan = quota.QuotaRecommender(overassignment=settings.overassignment, attainment_share=settings.attainment_share).recommend(
        rep_draws, inputs.target, reps=inputs.reps, team_targets=inputs.team_targets, period=world.period
    )
    q = plan.quotas.set_index("rep_id")["quota"]
    true_rep = truth.rep.reindex(q.index)
    true_share = float((true_rep.to_numpy() >= q.to_numpy()[:, None]).mean(axis=1).mean())
    said_share = float(plan.quotas["p_attain"].mean())
    pay = compensation.resolve_plan(settings.comp_plan)
    tenure = compensation.tenure_quarters(inputs.reps, period_bounds(world.period, ds.fiscal_year_start)[0])
    long_truth = true_rep.stack().rename("bookings").rename_axis(["rep_id", "draw"]).reset_index()

    def cost(draws_long):
        t_ = compensation.compensation_table(pay, plan.quotas, draws_long, tenure)
        return float(t_.loc[(t_["level"] == "company") & (t_["method"] == "equal chance"), "expected_payout"].iloc[0])

    plan_row = {
        "world": spec.name,
        "quarters": spec.quarters,
        "method": method,
        "seconds": seconds,
        "reps": len(q),
        "said_share": said_share,
        "true_share": true_share,
        "pay_said": cost(rep_draws),
        "pay_true": cost(long_truth),
    }
    return {"spec": spec, "levels": levels, "plan": plan_row}


def summarise(results: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per world × level figures, the pooled table per level, and PIT histograms (10 bins) per level."""
    rows, pits = [], {}
    for r in results:
        for level, (table, p) in r["levels"].items():
            err = (table["p50"] - table["true_p50"]) / table["true_p50"].where(table["true_p50"] > 0)
            rows.append(
                {
                    "world": r["spec"].name,
                    "quarters": r["spec"].quarters,
                    "level": level,
                    "groups": len(table),
                    "p50_error": float(table["p50"].sum() / table["true_p50"].sum() - 1) if level != "company" else float(err.iloc[0]),
                    "mean_ratio": float(table["mean"].sum() / table["true_mean"].sum()),
                    "median_abs_p50_error": float(err.abs().median()),
                    "coverage_80": float(table["coverage_80"].mean()),
                    "crps_scaled": float(table["crps"].sum() / table["true_mean"].sum()),
                }
            )
            if level == "team":
                ent = table[table["group"].str.startswith("Enterprise")]
                rows.append(
                    {
                        "world": r["spec"].name,
                        "quarters": r["spec"].quarters,
                        "level": "enterprise teams",
                        "groups": len(ent),
                        "p50_error": float(ent["p50"].sum() / ent["true_p50"].sum() - 1),
                        "mean_ratio": float(ent["mean"].sum() / ent["true_mean"].sum()),
                        "median_abs_p50_error": float(((ent["p50"] - ent["true_p50"]) / ent["true_p50"]).abs().median()),
                        "coverage_80": float(ent["coverage_80"].mean()),
                        "crps_scaled": float(ent["crps"].sum() / ent["true_mean"].sum()),
                    }
                )
            pits.setdefault(level, []).append(p)
    per_world = pd.DataFrame(rows)
    pooled = (
        per_world.groupby("level")
        .agg(
            worlds=("world", "size"),
            p50_error_mean=("p50_error", "mean"),
            p50_error_worst=("p50_error", lambda s: s.abs().max()),
            mean_ratio=("mean_ratio", "mean"),
            coverage_80=("coverage_80", "mean"),
            crps_scaled=("crps_scaled", "mean"),
        )
        .reset_index()
    )
    hist = pd.DataFrame(
        {level: np.histogram(np.concatenate(p), bins=10, range=(0, 1))[0] / len(np.concatenate(p)) for level, p in pits.items()}
    )
    hist.insert(0, "pit_bin", [f"{i / 10:.1f}-{(i + 1) / 10:.1f}" for i in range(10)])
    return per_world, pooled, hist


def main(n: int = WORLDS, quick: bool = False) -> None:
    results = []
    for spec in specs(n):
        t = time.perf_counter()
        results.append(run_world(spec, quick=quick))
        p = results[-1]["plan"]
        c = results[-1]["levels"]["company"][0].iloc[0]
        print(
            f"{spec.name:24s} {time.perf_counter() - t:5.1f}s company p50 {c['p50'] / c['true_p50'] - 1:+.3f} "
            f"said {p['said_share']:.2f} true {p['true_share']:.2f} pay {p['pay_said'] / p['pay_true'] - 1:+.3f}",
            flush=True,
        )
    per_world, pooled, hist = summarise(results)
    plans = pd.DataFrame([r["plan"] for r in results])
    plans["share_error"] = plans["said_share"] - plans["true_share"]
    plans["pay_error"] = plans["pay_said"] / plans["pay_true"] - 1
    suffix = "_quick" if quick else ""
    OUT.mkdir(parents=True, exist_ok=True)
    per_world.to_csv(OUT / f"worlds{suffix}.csv", index=False)
    plans.to_csv(OUT / f"worlds_plan{suffix}.csv", index=False)
    hist.to_csv(OUT / f"worlds_pit{suffix}.csv", index=False)
    print(pooled.round(3).to_string(index=False))
    print(hist.round(3).to_string(index=False))
    print(plans[["world", "method", "said_share", "true_share", "share_error", "pay_error"]].round(3).to_string(index=False))
    print(
        f"share error mean {plans['share_error'].mean():+.3f} worst {plans['share_error'].abs().max():.3f}; "
        f"pay error mean {plans['pay_error'].mean():+.3f} worst {plans['pay_error'].abs().max():.3f}"
    )


#: The causes of the long-cycle under-forecast and the miscalibrated chance, each a switch of the pipeline model:
#: ``before`` is the model as it was (every new deal in the rep's main segment, a fixed ramp schedule, curves flat
#: past their data, point estimates, a trend from 12 months); each row turns one fix on; ``after`` is the model now.
BEFORE = {"learn_ramp": False, "tail": False, "uncertainty": False, "segment_mix": False, "trend_months": 12}
CAUSES = {
    "before": BEFORE,
    "+ new deals in each rep's segment mix": BEFORE | {"segment_mix": True},
    "+ ramp learned from the hires": BEFORE | {"learn_ramp": True},
    "+ win curves continued past their data": BEFORE | {"tail": True},
    "+ no trend from under two years": BEFORE | {"trend_months": 24},
    "+ estimates' own uncertainty in the draws": BEFORE | {"uncertainty": True},
    "after": {"learn_ramp": True, "tail": True, "uncertainty": True, "segment_mix": True, "trend_months": 24},
}


def causes(n: int = WORLDS) -> pd.DataFrame:
    """Each cause's share: the quick benchmark with the model before, with each fix alone, and after."""
    from analysis import seasonality

    rows = []
    for name, switches in CAUSES.items():
        seasonality.MIN_MONTHS_TREND = switches["trend_months"]
        model = {k: v for k, v in switches.items() if k != "trend_months"}
        results = [run_world(spec, quick=True, model=model) for spec in specs(n)]
        per_world, pooled, _ = summarise(results)
        plans = pd.DataFrame([r["plan"] for r in results])
        share, pay = plans["said_share"] - plans["true_share"], plans["pay_said"] / plans["pay_true"] - 1
        company = per_world[per_world["level"] == "company"]["p50_error"]
        ent = per_world[per_world["level"] == "enterprise teams"]
        short = per_world[(per_world["level"] == "company") & (per_world["quarters"] <= 4)]["p50_error"]
        rows.append(
            {
                "model": name,
                "company_p50_error_mean": company.mean(),
                "company_p50_error_mean_abs": company.abs().mean(),
                "short_history_p50_error_mean": short.mean(),
                "enterprise_mean_ratio": ent["mean_ratio"].mean(),
                "company_coverage_80": pooled.set_index("level").loc["company", "coverage_80"],
                "rep_coverage_80": pooled.set_index("level").loc["rep", "coverage_80"],
                "said_share_error_mean": share.mean(),
                "said_share_error_worst": share.abs().max(),
                "pay_error_mean": pay.mean(),
            }
        )
        print(pd.DataFrame(rows[-1:]).round(3).to_string(index=False, header=len(rows) == 1), flush=True)
    seasonality.MIN_MONTHS_TREND = CAUSES["after"]["trend_months"]
    table = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT / "worlds_causes.csv", index=False)
    return table


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--causes" in sys.argv:
        causes(int(args[0]) if args else WORLDS)
    else:
        main(int(args[0]) if args else WORLDS, quick="--quick" in sys.argv)
