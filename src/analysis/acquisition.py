"""Customer acquisition cost per period: sales and marketing spend over the new customers won (docs/metrics.md),
plain, paid-only, lagged by the sales cycle and as months to pay back."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.calendar import DAYS_PER_MONTH, period_bounds
from analysis.data import Dataset
from analysis.formulas import cac_payback_months


def default_cac_lag(deals: pd.DataFrame) -> int:
    """The company's median won cycle in whole months (docs/methods.md §2.4): spend precedes its customers."""
    won = deals[deals["status"].eq("won")]
    if won.empty:
        return 0
    return int(round((won["close_date"] - won["created_date"]).dt.days.median() / DAYS_PER_MONTH))


def cac_metrics(deals, ds: Dataset, periods, freq: str, lag: int, gross_margin=None, revenue_per_customer=None) -> pd.DataFrame:
    """Company CAC per period: ``cac`` (sales + marketing spend / new customers), ``cac_paid`` (marketing
    only), ``cac_lagged`` (spend of the months ``lag`` earlier), ``cac_payback_months`` (CAC / (monthly
    revenue per new customer × gross margin)). Undefined, and flagged, with no new customers or months
    of spend missing."""
    spend = ds.spend
    monthly = spend.groupby(["month", "category"])["amount"].sum().unstack(fill_value=0.0)
    for cat in ("marketing", "sales"):
        if cat not in monthly:
            monthly[cat] = 0.0
    have = set(monthly.index)
    won_new = deals[deals["status"].eq("won") & deals["type"].eq("new") & deals["period_closed"].notna()]
    new = won_new.groupby("period_closed").size()
    out = []
    for period in periods:
        start, end = period_bounds(period, ds.fiscal_year_start)
        months = pd.date_range(start, end, freq="MS")
        lagged = months - pd.DateOffset(months=lag)
        n_new = float(new.get(period, 0))
        missing = [m.strftime("%Y-%m") for m in months if m not in have and m + pd.offsets.MonthEnd(0) <= ds.as_of_date]
        missing_lag = [m.strftime("%Y-%m") for m in lagged if m not in have]
        total = monthly.reindex(months).fillna(0.0)
        total_lag = monthly.reindex(lagged).fillna(0.0)
        sm, mk = float(total[["marketing", "sales"]].to_numpy().sum()), float(total["marketing"].sum())
        sm_lag = float(total_lag[["marketing", "sales"]].to_numpy().sum())

        def val(num: float, miss: list[str], n_new: float = n_new) -> tuple[float, str]:
            if miss:
                return np.nan, "spend missing for " + ", ".join(miss)
            if n_new == 0:
                return np.nan, "undefined: no new customers"
            return num / n_new, ""

        for metric, (v, note) in {
            "cac": val(sm, missing),
            "cac_paid": val(mk, missing),
            "cac_lagged": val(sm_lag, missing_lag),
        }.items():
            out.append(
                {
                    "metric": metric,
                    "dimension": "company",
                    "group": "all",
                    "period": period,
                    "value": v,
                    "n": n_new,
                    "note": note if metric != "cac_lagged" or note else f"spend lagged {lag} month(s)",
                }
            )
        if gross_margin and revenue_per_customer:
            v, note = val(sm, missing)
            out.append(
                {
                    "metric": "cac_payback_months",
                    "dimension": "company",
                    "group": "all",
                    "period": period,
                    "value": cac_payback_months(v, revenue_per_customer, gross_margin),
                    "n": n_new,
                    "note": note,
                }
            )
    frame = pd.DataFrame(out)
    frame["lower"] = np.nan
    frame["upper"] = np.nan
    return frame
