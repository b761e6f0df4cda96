"""Shared helpers: cached synthetic data, and timing a call in a fresh process with its peak memory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
AS_OF = "2026-11-15"


def dataset(n_opps: str, fmt: str) -> Path:
    """A cached demo company of about ``n_opps`` opportunities (``100k`` or ``1M``): opportunities + reps."""
    from analysis import demo

    reps, years = {"100k": (330, 3.0), "1M": (2500, 4.0)}[n_opps]
    folder = OUT / "data" / f"{n_opps}-{fmt}"
    if not (folder / f"opportunities.{fmt}").exists():
        t = time.perf_counter()
        tables = demo.generate(seed=1, reps=reps, years=years, as_of=AS_OF, activities=False)
        gen = time.perf_counter() - t
        demo.write({k: tables[k] for k in ("reps", "opportunities")}, folder, fmt=fmt)
        (folder / "generated.json").write_text(json.dumps({"seconds": gen, "opportunities": len(tables["opportunities"])}))
    return folder


def in_fresh_process(code: str) -> dict:
    """Run ``code`` (which must set ``result``, a dict) in a new interpreter; adds peak RSS in MB: ``peak_mb`` from
    getrusage and, on Linux, ``hwm_mb`` (VmHWM), the process's own peak (getrusage's survives exec, so a child
    reports at least what its parent held when it was started)."""
    wrapper = (
        "import json, resource, time\n"
        f"{code}\n"
        "result['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "try:\n"
        "    hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM:')][0]\n"
        "    result['hwm_mb'] = int(hwm.split()[1]) / 1024\n"
        "except (OSError, IndexError):\n"
        "    pass\n"
        "print(json.dumps(result))\n"
    )
    res = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def show(rows: list[dict], name: str) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT / f"{name}.csv", index=False)
    print(f"\n== {name} ==")
    print(frame.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
