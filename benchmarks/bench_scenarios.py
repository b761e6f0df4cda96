"""What-if sweep: 100 scenarios for 200 reps with 2,000 draws each, pay plan included (issue 7: under 5 s)."""

from __future__ import annotations

import time

from benchmarks.common import show


def main() -> list[dict]:
    import numpy as np
    import pandas as pd

    from analysis import compensation, scenarios

    rows = []
    for reps, draws in ((200, 2000), (2000, 2000)):
        rng = np.random.default_rng(0)
        med = rng.lognormal(np.log(150_000), 0.5, reps)
        m = med[:, None] * np.exp(0.4 * rng.standard_normal((reps, draws)))
        ids = [f"R{i:05d}" for i in range(reps)]
        long = pd.DataFrame({"rep_id": np.repeat(ids, draws), "draw": np.tile(np.arange(draws), reps), "bookings": m.ravel()})
        hire = pd.Timestamp("2027-01-01") - pd.to_timedelta(rng.integers(30, 2000, reps), unit="D")
        info = pd.DataFrame({"rep_id": ids, "team": [f"T{i % 20:02d}" for i in range(reps)], "hire_date": hire})
        target = float(med.sum())
        t = time.perf_counter()
        base = scenarios.prepare(long, info, target, pd.Timestamp("2027-01-01"), comp_plan=compensation.resolve_plan("standard"))
        prep = time.perf_counter() - t
        t = time.perf_counter()
        grid = scenarios.sweep(
            base, target=[target * f for f in np.linspace(0.8, 1.25, 10)], overassignment=np.linspace(0, 0.25, 10).tolist()
        )
        secs = time.perf_counter() - t
        rows.append(
            {
                "reps": reps,
                "draws": draws,
                "scenarios": len(grid),
                "prepare_s": prep,
                "sweep_s": secs,
                "per_scenario_ms": 1000 * secs / len(grid),
            }
        )
    show(rows, "scenarios")
    return rows


if __name__ == "__main__":
    main()
