"""The target slider: the sweep's rows in the house formats, today's plan shown first, nothing fetched from the
network, and in headless Chromium the sentence follows the sliders."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import slider
from analysis.present import money, share

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: Appended to a page: move both sliders (target to ``target``, over-assignment to ``over``; -1 is the last step) as
#: a reader would, then write what the control shows into the page as JSON for ``--dump-dom``.
_MOVE = """<script>
addEventListener("load", function () {
  var root = document.querySelector(".qc-slider"), before = {}, after = {};
  root.querySelectorAll("[data-field]").forEach(function (el) { before[el.getAttribute("data-field")] = el.textContent; });
  [["target", %(target)d], ["overassignment", %(over)d]].forEach(function (move) {
    var input = root.querySelector("input[name=" + move[0] + "]");
    input.value = move[1] < 0 ? +input.max + 1 + move[1] : move[1];
    input.dispatchEvent(new Event("input"));
  });
  root.querySelectorAll("[data-field]").forEach(function (el) { after[el.getAttribute("data-field")] = el.textContent; });
  var out = document.createElement("pre");
  out.id = "moved";
  out.textContent = JSON.stringify({before: before, after: after});
  document.body.appendChild(out);
});
</script>"""


def move_in_chromium(page: Path, work: Path, target: int = 0, over: int = -1) -> dict[str, dict[str, str]]:
    """Open a copy of ``page`` in headless Chromium, move the sliders and return what the control showed before and
    after (field → text)."""
    copy = work / f"moved-{page.name}"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", _MOVE % {"target": target, "over": over} + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    res = subprocess.run(
        [CHROMIUM, *flags, f"--user-data-dir={work / 'profile'}", "--virtual-time-budget=5000", "--dump-dom", copy.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'<pre id="moved">(.*?)</pre>', res.stdout, re.S)
    assert found, f"the sliders could not be moved: {res.stderr[-1500:]}"
    return json.loads(html_lib.unescape(found.group(1)))


def expected_row(r: pd.Series) -> dict[str, str]:
    """What the control shows for one row of the sweep, in the house formats."""
    return {
        "target": money(r["target"]),
        "overassignment": share(r["overassignment"]),
        "quota_total": money(r["quota_total"]),
        "share": share(r["expected_share_attaining"]),
        "pay": money(r["expected_variable_pay"]),
        "pay_p10": money(r["variable_pay_p10"]),
        "pay_p90": money(r["variable_pay_p90"]),
        "cost_of_sales": share(r["cost_of_sales"]),
    }


def _sweep(costed: bool = True) -> pd.DataFrame:
    targets, overs = [800_000.0, 1_000_000.0, 1_200_000.0], [0.0, 0.1, 0.2]
    rows = []
    for i, t in enumerate(targets):
        for j, o in enumerate(overs):
            pay = 100_000.0 - 10_000 * i - 5_000 * j
            rows.append(
                {
                    "target": t,
                    "overassignment": o,
                    "expected_share_attaining": 0.8 - 0.2 * i - 0.05 * j,
                    "quota_total": t * (1 + o),
                    "p_reach_target": 0.9 - 0.3 * i,
                    "expected_variable_pay": pay if costed else np.nan,
                    "variable_pay_p10": pay * 0.8 if costed else np.nan,
                    "variable_pay_p90": pay * 1.2 if costed else np.nan,
                    "cost_of_sales": 0.1 + 0.01 * j if costed else np.nan,
                    "today": (i, j) == (1, 1),
                }
            )
    return pd.DataFrame(rows).sample(frac=1, random_state=0)  # the rows in any order


def _data(page: str) -> list[list[dict[str, str]]]:
    return json.loads(re.search(r'<script type="application/json">(.*?)</script>', page, re.S).group(1).replace("<\\/", "</"))


def _shown(page: str) -> dict[str, str]:
    return {k: html_lib.unescape(v) for k, v in re.findall(r'<span data-field="(\w+)">(.*?)</span>', page)}


def test_the_slider_holds_every_row_in_house_formats_and_starts_at_todays_plan():
    sweep = _sweep()
    control = slider.target_slider(sweep, aim=0.65)
    page = control._repr_html_()
    data = _data(page)
    assert len(data) == 3 and all(len(r) == 3 for r in data)  # targets ascending × over-assignments ascending
    for _, r in sweep.iterrows():
        i, j = [800_000.0, 1_000_000.0, 1_200_000.0].index(r["target"]), [0.0, 0.1, 0.2].index(r["overassignment"])
        assert data[i][j] == expected_row(r)
    assert control.start == (1, 1) and _shown(page) == data[1][1]
    assert _shown(page)["target"] == "1.0M" and _shown(page)["share"] == "55%" and "the plan aims for 65%" in page
    assert 'value="1"' in page and 'max="2"' in page
    assert "http" not in page and " src=" not in page, "nothing fetched from the network"
    assert "Variable pay" in page


def test_nothing_to_move_and_a_plan_without_cost():
    assert slider.target_slider(pd.DataFrame(columns=["target", "overassignment", "today"])) == ""
    assert slider.target_slider(_sweep().assign(target=np.nan)) == ""
    page = slider.target_slider(_sweep(costed=False)).html()
    assert "Variable pay" not in page and "plan aims" not in page
    one = _sweep()
    one = one[one["overassignment"] == 0.1]
    page = slider.target_slider(one).html()
    assert 'name="overassignment" min="0" max="0" step="1" value="0" disabled' in page


def test_the_rows_cannot_close_their_script():
    page = slider.TargetSlider(rows=[[dict.fromkeys(slider.FIELDS, "</script><b>")]], start=(0, 0)).html()
    assert page.count("</script>") == 2 and _data(page)[0][0]["target"] == "</script><b>"
    assert "<b>" not in page.split("</script>")[1], "shown text is escaped"


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (.ci/run installs the Debian package)")
def test_in_the_browser_the_sentence_follows_the_sliders(tmp_path):
    sweep = _sweep()
    page = tmp_path / "page.html"
    page.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'></head><body>{slider.target_slider(sweep, 0.65).html()}</body></html>"
    )
    moved = move_in_chromium(page, tmp_path, target=0, over=-1)
    row = sweep[(sweep["target"] == 800_000) & (sweep["overassignment"] == 0.2)].iloc[0]
    assert moved["before"]["target"] == "1.0M" and moved["after"] == expected_row(row)
    moved = move_in_chromium(page, tmp_path, target=-1, over=0)
    assert moved["after"] == expected_row(sweep[(sweep["target"] == 1_200_000) & (sweep["overassignment"] == 0.0)].iloc[0])
