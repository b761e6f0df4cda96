"""Loading + validating 100k and 1M opportunities from CSV and Parquet: seconds and peak memory.

Aim (issue 2): 1M opportunities from Parquet loaded and validated in under 10 s and under 2 GB peak, 2 cores.
Each case runs in a fresh interpreter so its peak RSS is its own; the baseline row is the same process
importing the package and reading nothing, so the difference is what loading costs.
"""

from __future__ import annotations

import json

from benchmarks.common import AS_OF, dataset, in_fresh_process, show

LOAD = """
import analysis
t = time.perf_counter()
ds = analysis.load({folder!r}, as_of={as_of!r})
seconds = time.perf_counter() - t
result = {{"rows": int(ds.accounting.rows_in.sum()), "opportunities": len(ds.opportunities),
          "quarantined": len(ds.quarantine), "seconds": seconds}}
"""


def main() -> list[dict]:
    rows = []
    base = in_fresh_process("import analysis\nresult = {}")
    for size in ("100k", "1M"):
        for fmt in ("parquet", "csv"):
            folder = dataset(size, fmt)
            gen = json.loads((folder / "generated.json").read_text())
            r = in_fresh_process(LOAD.format(folder=str(folder), as_of=AS_OF))
            rows.append(
                {
                    "case": f"{size} {fmt}",
                    "opportunities": r["opportunities"],
                    "load_validate_s": r["seconds"],
                    "peak_mb": r["peak_mb"],
                    "import_only_mb": base["peak_mb"],
                    "generate_s": gen["seconds"],
                }
            )
    show(rows, "load")
    return rows


if __name__ == "__main__":
    main()
