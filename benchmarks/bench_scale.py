"""How the heavy parts grow with the extract (issue 16, docs/scale.md): at about 100k, 1M and 3M opportunities, each
in a fresh interpreter, the seconds and peak memory of loading and validating (Parquet), the metrics table (every
dimension, by quarter) and the pipeline model (fit and next quarter's draws for every rep).

``python -m benchmarks scale [--no-3m]``: the 3M company takes several minutes to generate the first time.
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks.common import AS_OF, OUT, in_fresh_process, show

#: size: (reps, years, deal volume) — the demo company's shape, scaled.
SIZES = {"100k": (330, 3.0, 1.0), "1M": (2000, 3.0, 1.55), "3M": (5000, 3.0, 1.9)}

STEPS = """
import analysis
from analysis.metrics import metrics_table
from analysis.pipeline_model import PipelineForecaster
t = time.perf_counter(); ds = analysis.load({folder!r}, as_of={as_of!r}); load = time.perf_counter() - t
t = time.perf_counter(); metrics_table(ds, freq="Q"); metrics = time.perf_counter() - t
t = time.perf_counter(); model = PipelineForecaster(draws=1000).fit(ds); fit = time.perf_counter() - t
t = time.perf_counter(); model.predict("next"); predict = time.perf_counter() - t
result = {{"opportunities": len(ds.opportunities), "reps": len(ds.reps), "stage_rows": len(ds.stage_history),
          "load_s": load, "metrics_s": metrics, "fit_s": fit, "predict_s": predict}}
"""


def company(size: str):
    from analysis import demo

    reps, years, volume = SIZES[size]
    folder = OUT / "data" / f"scale-{size}"
    if not (folder / "opportunities.parquet").exists():
        tables = demo.generate(seed=4, reps=reps, years=years, as_of=AS_OF, volume=volume, activities=False)
        demo.write(tables, folder, fmt="parquet")
    return folder


def main(argv: list[str] | None = None) -> list[dict]:
    argv = sys.argv[2:] if argv is None else argv
    sizes = [s for s in SIZES if not (s == "3M" and "--no-3m" in argv)]
    rows = []
    for size in sizes:
        t = time.perf_counter()
        folder = company(size)
        made = time.perf_counter() - t
        r = in_fresh_process(STEPS.format(folder=str(folder), as_of=AS_OF))
        rows.append({"size": size, **r, "peak_gb": r.get("hwm_mb", r["peak_mb"]) / 1024, "generated_s": made})
        (OUT / "scale.json").write_text(json.dumps(rows, indent=2))
    show(rows, "scale")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
