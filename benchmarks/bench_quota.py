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
    long = pd.DataFrame({"rep_id": np.repeat([f"R{i:05d}" for i in range(reps)], draws), "draw": np.tile(np.arange(draws), reps), "bookings": m.ravel()})
    target = float(med.sum())
    t = time.perf_counter()
    plan = QuotaRecommender().recommend(long, target)
    secs = time.perf_counter() - t
    rows = [{"reps": reps, "draws": draws, "seconds": secs, "p_hat": plan.p_hat, "sum_error": plan.quotas.quota.sum() - target * 1.1}]
    show(rows, "quota")
    return rows


if __name__ == "__main__":
    main()
