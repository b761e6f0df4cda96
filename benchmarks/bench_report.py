"""``make report`` on the demo data (issue 6: under 90 s after set-up on 2 cores), split into kernel start-up,
notebook computation, rendering and the run's own overhead.

Kernel start-up is measured by executing an empty notebook with papermill; the computation by calling the same
package functions the notebooks call, in-process; rendering from the run's manifest.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from benchmarks.common import show

DEMO_AS_OF = "2026-11-15"


def main() -> list[dict]:
    import nbformat
    import papermill as pm

    import analysis
    from analysis import report
    from analysis.backtest import backtest
    from analysis.config import DEMO_DIR
    from analysis.metrics import metrics_table
    from analysis.pipeline_model import PipelineForecaster
    from analysis.survival import winner_curves_by

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        empty = nbformat.v4.new_notebook()
        empty.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        empty.cells = [nbformat.v4.new_code_cell("import analysis, seaborn")]
        nbformat.write(empty, tmp / "empty.ipynb")
        t = time.perf_counter()
        pm.execute_notebook(str(tmp / "empty.ipynb"), str(tmp / "out.ipynb"), kernel_name="python3", progress_bar=False)
        kernel = time.perf_counter() - t

        t = time.perf_counter()
        final = report.run(str(DEMO_DIR), period="next", as_of=DEMO_AS_OF, out=tmp / "reports", log=lambda *_: None)
        total = time.perf_counter() - t
        m = json.loads((final / "manifest.json").read_text())

    t = time.perf_counter()
    ds = analysis.load(DEMO_DIR, as_of=DEMO_AS_OF)
    for _ in range(3):  # 10-check-data, 20-measure-pipeline and 30-forecast-bookings each load the data
        ds = analysis.load(DEMO_DIR, as_of=DEMO_AS_OF)
    metrics_table(ds)
    winner_curves_by(ds.opportunities, ds.as_of_date, "segment")
    PipelineForecaster(draws=2000, seed=0).fit(ds).predict("next").table()
    backtest(ds, n=6, make=lambda: PipelineForecaster(draws=1000, seed=0))
    compute = time.perf_counter() - t

    notebooks = [k for k in m["durations_s"] if k.endswith(".ipynb")]
    executing = sum(m["durations_s"][k] for k in notebooks)
    rendering = sum(v for k, v in m["durations_s"].items() if k.endswith(".html"))
    n = len(notebooks)
    rows = [
        {"part": "whole run (quotacast run on data/demo)", "seconds": total},
        {"part": f"  executing {n} notebooks", "seconds": executing},
        {"part": f"    of which kernel start-up + imports ({n} x {kernel:.1f} s)", "seconds": n * kernel},
        {"part": "    of which package computation (load x4, metrics, curves, forecast, backtest)", "seconds": compute},
        {"part": "    of which charts, display and papermill overhead (rest)", "seconds": executing - n * kernel - compute},
        {"part": f"  rendering {n} HTML pages", "seconds": rendering},
        {"part": "  validation, manifest, moving into place", "seconds": total - executing - rendering},
    ]
    show(rows, "report")
    return rows


if __name__ == "__main__":
    main()
