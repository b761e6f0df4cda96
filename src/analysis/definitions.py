"""The plain-words definitions of the metrics, parsed from ``docs/metrics.md`` for the report pages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.config import PROJECT_DIR


def definitions(path: str | Path | None = None) -> pd.DataFrame:
    """The plain-words definitions of ``docs/metrics.md``: ``metric``, ``definition``, ``formula``."""
    path = Path(path) if path else PROJECT_DIR / "docs" / "metrics.md"
    if not path.exists():
        raise FileNotFoundError(f"{path}: the metric definitions are in docs/metrics.md of the Quotacast repository")
    rows, name, lines = [], None, []

    def flush() -> None:
        if name:
            text = " ".join(x.strip() for x in lines if x.strip())
            words, _, formula = text.partition("Formula:")
            rows.append({"metric": name, "definition": words.strip(), "formula": formula.strip()})

    for line in path.read_text().splitlines():
        if line.startswith("### "):
            flush()
            name, lines = line[4:].strip(), []
        elif line.startswith("## "):
            flush()
            name, lines = None, []
        elif name:
            lines.append(line)
    flush()
    return pd.DataFrame(rows)
