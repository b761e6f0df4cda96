"""The quota plan as an Excel workbook for sales operations (``quotas.xlsx``): its layout, sheets and number formats."""

from __future__ import annotations

import pandas as pd
from openpyxl.utils import get_column_letter

from analysis.quota import QuotaPlan


def to_excel(plan: QuotaPlan, path) -> None:
    """``quotas.xlsx`` for sales operations: a summary sheet, then one sheet per team; values only (no
    formulas), frozen header, readable widths and number formats."""
    summary = plan.methods.copy()
    warnings = list(plan.warnings) or ["none"]  # one row each: at 250 teams, together they overflow a cell
    head = pd.DataFrame(
        {
            "item": ["period", "quota type", "mode", "target", "common chance of attaining (p̂)", *["warning"] * len(warnings)],
            "value": [plan.period, plan.quota_type, plan.mode, plan.target, round(plan.p_hat, 4), *warnings],
        }
    )
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        head.to_excel(xw, sheet_name="Summary", index=False)
        summary.to_excel(xw, sheet_name="Summary", index=False, startrow=len(head) + 2)
        if len(plan.pools):
            plan.pools.to_excel(xw, sheet_name="Summary", index=False, startrow=len(head) + len(summary) + 5)
        used = {"Summary"}
        for team, frame in plan.quotas.groupby("team", sort=True):
            name = "".join(ch for ch in str(team) if ch not in "[]:*?/\\")[:28] or "team"
            while name in used:
                name = name[:26] + "_" + str(len(used))
            used.add(name)
            frame.drop(columns=["team"]).to_excel(xw, sheet_name=name, index=False)
        for ws in xw.book.worksheets:
            ws.freeze_panes = "A2"
            for i, col in enumerate(ws.iter_cols(min_row=1, max_row=min(ws.max_row, 200)), start=1):
                width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
                ws.column_dimensions[get_column_letter(i)].width = min(max(10, width + 2), 60)
                for c in col[1:]:
                    if isinstance(c.value, float):
                        c.number_format = "0.00" if abs(c.value) <= 1 else "#,##0"
