"""The written contract (docs/data-contract.md) and the code's contract (analysis.schemas) say the same."""

import re

from analysis.schemas import TABLES
from helpers import ROOT

DOC = (ROOT / "docs" / "data-contract.md").read_text()


def test_every_table_and_column_is_documented():
    for table in TABLES.values():
        assert f"`{table.name}`" in DOC, table.name
        for col in table.columns:
            assert f"`{col.name}`" in DOC, f"{table.name}.{col.name}"


def test_required_columns_are_marked_required_in_the_doc():
    for name in ("opportunities", "reps"):
        for col in TABLES[name].required_columns:
            row = next(line for line in DOC.splitlines() if line.startswith(f"| `{col}` |"))
            assert re.search(r"\|\s*yes", row), col


def test_every_rule_family_is_documented():
    for code in [
        "close_before_create",
        "won_without_amount",
        "closed_without_close_date",
        "open_with_close_date",
        "unknown_owner",
        ".duplicate",
        ".unparseable",
        ".future",
        ".missing",
        "end_before_hire",
        "unknown_opportunity",
    ]:
        assert code in DOC, code
