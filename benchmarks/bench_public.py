"""Rolling backtests of the forecast on the public CRM datasets in ``../shared/datasets`` (those the data zoo runs),
for docs/accuracy.md: per dataset and method, company-level MASE, bias, 80 % coverage and pinball loss over the
quarters each history allows. Skips a dataset that is absent. Writes ``out/public_backtests.csv``."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.common import OUT

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"


def main() -> pd.DataFrame:
    import analysis
    from analysis import forecast
    from analysis.backtest import scores
    from analysis.calendar import next_period
    from analysis.variants import PUBLIC, prepare_public

    rows = []
    for name, (folder, _, mapping, as_of) in PUBLIC.items():
        source = SHARED / folder
        if not source.is_dir():
            print(f"{name}: absent, skipped")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            data = prepare_public(name, source, Path(tmp) / "data")
            ds = analysis.load(data, mapping=mapping, as_of=as_of)
            t = time.perf_counter()
            rep = forecast.forecast_report(ds, next_period(ds.as_of_date, ds.fiscal_year_start), horizon=1, draws=1000, backtest_quarters=6)
        bt = rep.backtest
        if bt.empty:
            print(f"{name}: no quarter to replay")
            continue
        company = bt[bt["level"] == "company"]
        table = company.groupby("method").apply(scores, include_groups=False).reset_index(level=0)
        table = table.assign(data=name, chosen=rep.pipeline_method, seconds=time.perf_counter() - t)
        rows.append(table)
        print(table[["data", "method", "n", "mase", "bias", "coverage_80", "pinball_p50"]].round(3).to_string(index=False), flush=True)
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    OUT.mkdir(parents=True, exist_ok=True)
    out.to_csv(OUT / "public_backtests.csv", index=False)
    return out


if __name__ == "__main__":
    main()
