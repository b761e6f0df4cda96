"""The target slider: the run's what-if sweep (``scenarios.csv``) as a control inside the page — the sweep's rows,
already in the house formats, and a few lines of plain JavaScript that show the row the reader picks. It moves the
target and the over-assignment and shows the quotas' total, the share of reps expected to attain and what the plan
costs. No server, kernel or network: it works from a file opened offline or sent by e-mail, and without JavaScript
the page still shows today's plan."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from html import escape

import pandas as pd

from analysis.present import MISSING, money, share

#: What a row shows, each value as text in the house format.
FIELDS = ("target", "overassignment", "quota_total", "share", "pay", "pay_p10", "pay_p90", "cost_of_sales")

_SCRIPT = """(function () {
  var root = document.getElementById("%(id)s");
  var rows = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var target = root.querySelector("input[name=target]"), over = root.querySelector("input[name=overassignment]");
  function show() {
    var row = rows[+target.value][+over.value];
    root.querySelectorAll("[data-field]").forEach(function (el) { el.textContent = row[el.getAttribute("data-field")]; });
  }
  target.addEventListener("input", show);
  over.addEventListener("input", show);
})();"""

_STYLE = (
    ".qc-slider{border:1px solid #ccd;border-radius:6px;padding:8px 14px;margin:6px 0;max-width:760px}"
    ".qc-slider label{display:flex;align-items:center;gap:10px;margin:4px 0}.qc-slider input[type=range]{flex:1;max-width:360px}"
    ".qc-slider .qc-name{width:9em}.qc-slider .qc-value{min-width:5em;font-weight:600}.qc-slider p{margin:6px 0}"
)


def _row(r: pd.Series) -> dict[str, str]:
    return {
        "target": money(r["target"]),
        "overassignment": share(r["overassignment"]),
        "quota_total": money(r["quota_total"]),
        "share": share(r["expected_share_attaining"]),
        "pay": money(r.get("expected_variable_pay")),
        "pay_p10": money(r.get("variable_pay_p10")),
        "pay_p90": money(r.get("variable_pay_p90")),
        "cost_of_sales": share(r.get("cost_of_sales")),
    }


@dataclass
class TargetSlider:
    """The control for one sweep: ``rows[i][j]`` is target ``i`` at over-assignment ``j`` (both ascending), as text;
    ``start`` the indices of today's plan; ``aim`` the share of reps the plan aims to see attaining; ``costed``
    whether the sweep priced the plan (a compensation plan for bookings quotas)."""

    rows: list[list[dict[str, str]]]
    start: tuple[int, int]
    aim: float | None = None
    costed: bool = True

    @classmethod
    def from_sweep(cls, sweep: pd.DataFrame, aim: float | None = None) -> TargetSlider | None:
        """The slider over ``sweep`` (``scenarios.sweep``: every target × over-assignment, today's plan flagged);
        None when the sweep is empty or has no target to move."""
        if sweep is None or sweep.empty or sweep["target"].isna().all():
            return None
        s = sweep[sweep["target"].notna()]
        at_target = {t: i for i, t in enumerate(sorted(s["target"].unique()))}
        at_over = {o: j for j, o in enumerate(sorted(s["overassignment"].unique()))}
        rows = [[dict.fromkeys(FIELDS, MISSING) for _ in at_over] for _ in at_target]
        for _, r in s.iterrows():
            rows[at_target[r["target"]]][at_over[r["overassignment"]]] = _row(r)
        today = s[s["today"].astype(str) == "True"]
        start = (at_target[today["target"].iloc[0]], at_over[today["overassignment"].iloc[0]]) if len(today) else (len(rows) // 2, 0)
        costed = "expected_variable_pay" in s and s["expected_variable_pay"].notna().any()
        return cls(rows=rows, start=start, aim=aim, costed=bool(costed))

    def _repr_html_(self) -> str:
        return self.html()

    def html(self) -> str:
        """The control as one block of HTML: style, the rows as JSON, the inputs set at today's plan, the sentence
        with today's values, and the script."""
        data = json.dumps(self.rows, ensure_ascii=False, separators=(",", ":"))
        embedded = data.replace("</", "<\\/")  # the rows cannot close their script element
        ident = "qc-slider-" + hashlib.sha1(data.encode()).hexdigest()[:10]
        now = self.rows[self.start[0]][self.start[1]]

        def field(name: str) -> str:
            return f'<span data-field="{name}">{escape(now[name])}</span>'

        aim = f" (the plan aims for {share(self.aim)})" if self.aim is not None else ""
        cost = (
            f" Variable pay {field('pay')} (80 % range {field('pay_p10')} to {field('pay_p90')}), {field('cost_of_sales')} of bookings."
            if self.costed
            else ""
        )
        overs = len(self.rows[0])
        return (
            f'<div class="qc-slider" id="{ident}"><style>{_STYLE}</style>'
            f'<script type="application/json">{embedded}</script>'
            f'<label><span class="qc-name">Target</span><input type="range" name="target" min="0" max="{len(self.rows) - 1}" '
            f'step="1" value="{self.start[0]}"><span class="qc-value">{field("target")}</span></label>'
            f'<label><span class="qc-name">Over-assignment</span><input type="range" name="overassignment" min="0" '
            f'max="{overs - 1}" step="1" value="{self.start[1]}"{" disabled" if overs == 1 else ""}>'
            f'<span class="qc-value">{field("overassignment")}</span></label>'
            f"<p>Quotas add up to {field('quota_total')}; <strong>{field('share')}</strong> of reps are expected to attain{aim}.{cost}</p>"
            f"<p>Today's plan: a target of {escape(now['target'])} with {escape(now['overassignment'])} over-assignment.</p>"
            f"<script>{_SCRIPT % {'id': ident}}</script></div>"
        )


def target_slider(sweep: pd.DataFrame, aim: float | None = None) -> TargetSlider | str:
    """The slider for a page (shown by :func:`analysis.present.show`), or an empty string when there is nothing to
    move (the page's section says why)."""
    return TargetSlider.from_sweep(sweep, aim) or ""
