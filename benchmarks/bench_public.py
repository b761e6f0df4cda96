"""Rolling backtests of the forecast on the public CRM datasets in ``../shared/datasets`` (those the data zoo runs),
for docs/accuracy.md: per dataset and method, company-level MASE, bias, 80 % coverage and pinball loss over the
quarters each history allows. Skips a dataset that is absent. Writes ``out/public_backtests.csv``."""

from __future__ import annotations

import importlib.util
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.common import OUT

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
#: name: (dataset folder, example with prepare.py or None, mapping, as-of: the data's last day)
PUBLIC = {
    "maven_crm": ("maven_crm", None, "maven", "2017-12-31"),
    "sparklesquad_crm": ("sparklesquad_crm", None, str(ROOT / "examples/sparklesquad_crm/mapping.yaml"), "2017-12-31"),
    "sales_pipeline_stage_history": (
        "sales_pipeline_stage_history",
        None,
        str(ROOT / "examples/sales_pipeline_stage_history/mapping.yaml"),
        "2016-12-31",
    ),
    "olist_marketing_funnel": (
        "olist_marketing_funnel",
        "olist_marketing_funnel",
        str(ROOT / "examples/olist_marketing_funnel/mapping.yaml"),
        "2018-11-14",
    ),
    "superstore": ("superstore", None, str(ROOT / "examples/superstore/mapping.yaml"), "2019-12-30"),
}


def _prepare(example: str, source: Path, out: Path) -> Path:
    spec = importlib.util.spec_from_file_location(f"prepare_{example}", ROOT / "examples" / example / "prepare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.prepare(source, out)
    return out


def main() -> pd.DataFrame:
    import analysis
    from analysis import series
    from analysis.backtest import scores
    from analysis.calendar import next_period

    rows = []
    for name, (folder, example, mapping, as_of) in PUBLIC.items():
        source = SHARED / folder
        if not source.is_dir():
            print(f"{name}: absent, skipped")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            data = _prepare(example, source, Path(tmp) / "data") if example else source
            ds = analysis.load(data, mapping=mapping, as_of=as_of)
            t = time.perf_counter()
            rep = series.forecast_report(ds, next_period(ds.as_of_date, ds.fiscal_year_start), horizon=1, draws=1000, backtest_quarters=6)
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
