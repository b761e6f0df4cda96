"""Recommending quotas for 2,000 reps from their draws (issue 5: under 5 s)."""

from __future__ import annotations

import time

from benchmarks.common import show


def main() -> list[dict]:
    import numpy as np
    import pandas as pd

    from analysis.quota import QuotaRecommender

    rng = np.random.default_rng(0)
    reps, draws = 2000, 2000
    med = rng.lognormal(np.log(150_000), 0.5, reps)
    m = med[:, None] * np.exp(0.4 * rng.standard_normal((reps, draws)))
    long = pd.DataFrame(
        {"rep_id": np.repeat([f"R{i:05d}" for i in range(reps)], draws), "draw": np.tile(np.arange(draws), reps), "bookings": m.ravel()}
    )
    target = float(med.sum())
    ids = [f"R{i:05d}" for i in range(reps)]
    info = pd.DataFrame({"rep_id": ids, "team": [f"T{i % 40:02d}" for i in range(reps)], "name": ids})
    team_targets = pd.Series(med, index=info["team"]).groupby(level=0).sum().iloc[:30]  # 30 of 40 teams with a target
    previous = pd.Series(med * rng.lognormal(0, 0.4, reps), index=ids)  # last quarter's quotas: the cap binds for some
    rows = []
    for case, kwargs, rec in [
        ("company target", {}, QuotaRecommender()),
        (
            "30 team targets + ±50 % cap",
            {"reps": info, "team_targets": team_targets, "previous": previous},
            QuotaRecommender(max_change=0.5),
        ),
    ]:
        t = time.perf_counter()
        plan = rec.recommend(long, target, **kwargs)
        secs = time.perf_counter() - t
        rows.append(
            {
                "case": case,
                "reps": reps,
                "draws": draws,
                "seconds": secs,
                "p_hat": plan.p_hat,
                "sum_error": plan.quotas["quota"].sum() - target * 1.1,
                "held_at_cap": int(plan.quotas["flags"].str.contains("held").sum()),
            }
        )
    show(rows, "quota")
    return rows


if __name__ == "__main__":
    main()
