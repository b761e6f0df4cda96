"""The quarterly run end to end: notebooks executed with papermill, tables checked against the package,
history, a failure that leaves the previous run untouched, the lock, refused parameters, no secrets, and
the leadership page as a reader sees it in headless Chromium."""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import io
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import report
from analysis.config import Settings
from analysis.data import DataError
from analysis.metrics import metrics_table
from helpers import AS_OF, ROOT

pytestmark = [pytest.mark.notebook, pytest.mark.slow]
PERIOD = "2027Q1"


def _notebook(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = list(cells)
    return nb


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def first_run(demo_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    final = report.run(str(demo_dir), period="next", as_of=AS_OF, out=out, log=lambda *_: None)
    return out, final


def test_a_run_writes_reports_tables_and_manifest(first_run, demo_dir):
    out, final = first_run
    assert final == out / PERIOD
    for nb in report.scheduled_notebooks():
        assert (final / nb.name).exists() and (final / f"{nb.stem}.html").exists()
    ds = analysis.load(demo_dir, as_of=AS_OF)
    # The tables the run recorded are the package's own numbers.
    recorded = pd.read_csv(final / "metrics.csv", keep_default_na=False, na_values=[""])
    expected = metrics_table(ds)
    key = ["metric", "dimension", "group", "period"]
    got = recorded.set_index(key)["value"].astype(float)
    want = expected.set_index(key)["value"]
    assert len(got) == len(want)
    np.testing.assert_allclose(got.reindex(want.index).to_numpy(), want.to_numpy(), rtol=1e-9, equal_nan=True)
    from analysis.backtest import pinball
    from analysis.pipeline_model import PipelineForecaster

    everything = pd.read_csv(final / "forecast.csv", keep_default_na=False, na_values=[""])
    quarters = {"2027Q1", "2027Q2", "2027Q3", "2027Q4"}  # the horizon: 4 quarters after the as-of date
    assert set(everything.period) == quarters | {"2026Q4", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03"}  # + under way, months
    assert {"pipeline", "combined"} <= set(everything.method)
    forecast = everything[(everything.method == "pipeline") & (everything.period == PERIOD)]
    own = PipelineForecaster(draws=2000, seed=0).fit(ds).predict(PERIOD).table()
    np.testing.assert_allclose(forecast[["mean", "p10", "p50", "p90"]].to_numpy(), own[["mean", "p10", "p50", "p90"]].to_numpy(), rtol=1e-9)
    assert (forecast.group.astype(str).tolist(), forecast.level.tolist()) == (own.group.tolist(), own.level.tolist())
    from analysis import series

    weights = pd.read_csv(final / "forecast_weights.csv")
    combined = everything[everything.method == "combined"].drop(columns="method").reset_index(drop=True)
    parts = everything[(everything.method != "combined") & (everything.level != "rep") & everything.period.isin(quarters)]
    np.testing.assert_allclose(
        combined[["mean", "p10", "p50", "p90"]].to_numpy(),
        series.combine(parts, weights)[["mean", "p10", "p50", "p90"]].to_numpy(),
        rtol=1e-9,
    )
    draws = pd.read_parquet(final / "rep_draws.parquet")
    # The quotas' draws come from the pipeline variant with the lower company-level pinball loss in the backtest.
    bt = pd.read_csv(final / "backtest.csv")
    company = bt[(bt.level == "company") & bt.method.isin(["pipeline", "pipeline_recalibrated"])]
    loss = company.groupby("method").apply(
        lambda b: (sum(pinball(b.actual, b[c], t) for c, t in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9))) / b.scale).mean(),
        include_groups=False,
    )
    chosen = everything[(everything.method == loss.idxmin()) & (everything.period == PERIOD) & (everything.level == "rep")]
    assert draws.groupby("rep_id").bookings.median().round(6).to_dict() == chosen.set_index("group").p50.round(6).to_dict()
    assert set(pd.read_csv(final / "backtest.csv").cutoff.unique()).__len__() == 6
    from analysis import quota

    inputs = quota.plan_inputs(ds, PERIOD)
    plan = quota.QuotaRecommender(max_change=Settings().max_quota_change).recommend(
        draws,
        inputs.target,
        reps=inputs.reps,
        last_year=inputs.last_year,
        goals=inputs.goals,
        period=PERIOD,
        team_targets=inputs.team_targets,
        previous=inputs.previous,
    )
    quotas = pd.read_csv(final / "quotas.csv", keep_default_na=False, na_values=[""])
    np.testing.assert_allclose(quotas["quota"], plan.quotas["quota"], rtol=1e-9)
    asked = plan.pools["asked"].sum() if len(inputs.team_targets) else inputs.target * 1.10  # team targets come first
    if not any("cannot add up" in w for w in plan.warnings):
        assert quotas["quota"].sum() == pytest.approx(asked, abs=1e-3)
    for col in [
        "rep_id",
        "name",
        "team",
        "period",
        "quota",
        "p_attain",
        "method",
        "forecast_p10",
        "forecast_p50",
        "forecast_p90",
        "ramp_factor",
        "goal",
        "flags",
        "reason",
        "quota_budget_per_rep",
        "quota_last_year_plus_growth",
    ]:
        assert col in quotas.columns, col
    book = pd.read_excel(final / "quotas.xlsx", sheet_name=None)
    assert "Summary" in book and sum(len(v) for k, v in book.items() if k != "Summary") == len(quotas)
    from openpyxl import load_workbook

    wb = load_workbook(final / "quotas.xlsx")
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for ws in wb for row in ws.iter_rows() for c in row)
    q = pd.read_csv(final / "quarantine.csv")
    assert len(q) == len(ds.quarantine)
    acc = pd.read_csv(final / "accounting.csv")
    assert (acc.rows_in == acc.rows_used + acc.rows_quarantined).all()
    m = json.loads((final / "manifest.json").read_text())
    assert m["status"] == "complete" and m["period"] == PERIOD and m["as_of"] == AS_OF
    assert {i["table"] for i in m["inputs"]} == set(ds.tables)
    for i in m["inputs"]:
        assert i["sha256"] == hashlib.sha256(Path(i["file"]).read_bytes()).hexdigest()
        assert i["rows_in"] == i["rows_used"] + i["rows_quarantined"]
    assert set(m["durations_s"]) >= {nb.name for nb in report.scheduled_notebooks()}
    assert m["versions"]["pandas"] == pd.__version__ and m["settings"]["overassignment"] == 0.10
    assert m["parameters"]["20-measure-pipeline.ipynb"]["period"] == PERIOD
    index = (out / "index.html").read_text()
    assert PERIOD in index and "complete" in index
    # The executed notebook records the injected parameters (the audit record), the HTML shows no code.
    executed = nbformat.read(final / "20-measure-pipeline.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    html = (final / "20-measure-pipeline.html").read_text()
    assert "metrics_table(" not in html and "import analysis" not in html and "<img" in html


def test_second_run_moves_the_first_into_history_and_gives_the_same_tables(first_run, demo_dir):
    out, final = first_run
    before = (final / "metrics.csv").read_bytes(), (final / "quarantine.csv").read_bytes()
    report.run(str(demo_dir), period=PERIOD, as_of=AS_OF, out=out, log=lambda *_: None)
    assert (final / "metrics.csv").read_bytes() == before[0] and (final / "quarantine.csv").read_bytes() == before[1]
    history = list((final / "history").iterdir())
    assert len(history) == 1 and (history[0] / "manifest.json").exists()
    assert "history" in (out / "index.html").read_text()


def test_a_failing_notebook_stops_the_run_and_leaves_the_previous_one_untouched(first_run, demo_dir, tmp_path):
    out, final = first_run
    before = _digest(final)
    bad = tmp_path / "30-break-things.ipynb"
    nb = _notebook(
        nbformat.v4.new_code_cell('period = "x"  # quarter', metadata={"tags": ["parameters"]}), nbformat.v4.new_code_cell("1 / 0")
    )
    nbformat.write(nb, bad)
    notebooks = [*report.scheduled_notebooks()[:1], bad]
    with pytest.raises(report.RunError, match=r"notebook 30-break-things.ipynb failed: ZeroDivisionError"):
        report.run(str(demo_dir), period=PERIOD, as_of=AS_OF, out=out, notebooks=notebooks, log=lambda *_: None)
    after = _digest(final)
    new = {k for k in after if k not in before}
    assert all(k.startswith("failed/") for k in new) and any(k.endswith("30-break-things.ipynb") for k in new)
    assert any(k.endswith(report.KERNEL_LOG) for k in new) and not (final / report.KERNEL_LOG).exists()
    assert {k: v for k, v in after.items() if k in before} == before
    assert not list(out.glob(".tmp-*")) and not list(out.glob(".*.lock"))


def test_the_kernels_own_messages_go_to_a_log_not_the_console(tmp_path, capfd):
    """What a notebook's kernel process writes itself (IPKernelApp's log: a KeyboardInterrupt caught at shutdown, a
    warning) lands in kernels.log in the folder the notebook runs in; the console sees none of it."""
    import papermill as pm

    nb = _notebook(nbformat.v4.new_code_cell("import os\nos.write(2, b'the kernel process says this on stderr\\n')"))
    nbformat.write(nb, tmp_path / "talk.ipynb")
    for _ in range(2):  # a second kernel in the same folder adds to the log
        pm.execute_notebook(
            str(tmp_path / "talk.ipynb"),
            str(tmp_path / "out.ipynb"),
            cwd=str(tmp_path),
            progress_bar=False,
            kernel_manager_class="analysis.report.LocalKernelManager",
        )
    assert (tmp_path / report.KERNEL_LOG).read_text().count("the kernel process says this on stderr") == 2
    captured = capfd.readouterr()
    assert "the kernel process says this" not in captured.err + captured.out


def test_second_run_of_the_same_period_is_refused_while_one_runs(demo_dir, tmp_path):
    (tmp_path / f".{PERIOD}.lock").write_text("pid 1 on elsewhere, started earlier")
    with pytest.raises(report.RunLocked, match="another run of this period is in progress"):
        report.run(str(demo_dir), period=PERIOD, as_of=AS_OF, out=tmp_path, log=lambda *_: None)
    res = subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--data", str(demo_dir), "--period", PERIOD, "--as-of", AS_OF, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 3 and "in progress" in res.stderr


def test_unknown_parameters_and_bad_data_are_refused_before_anything_runs(demo_dir, tmp_path):
    with pytest.raises(DataError, match=r"unknown setting\(s\) \['nonsense'\]"):
        report.run(str(demo_dir), period=PERIOD, as_of=AS_OF, out=tmp_path, overrides={"nonsense": 1}, log=lambda *_: None)
    needs = tmp_path / "nb"
    needs.mkdir()
    nb = _notebook(nbformat.v4.new_code_cell('colour = "red"  # not a parameter the run provides', metadata={"tags": ["parameters"]}))
    nbformat.write(nb, needs / "10-odd.ipynb")
    with pytest.raises(report.RunError, match=r"declares parameter\(s\) \['colour'\]"):
        report.run(str(demo_dir), period=PERIOD, as_of=AS_OF, out=tmp_path, notebooks=[needs / "10-odd.ipynb"], log=lambda *_: None)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError):
        report.run(str(empty), period=PERIOD, as_of=AS_OF, out=tmp_path, log=lambda *_: None)
    assert not (tmp_path / PERIOD).exists() and not list(tmp_path.glob(".tmp-*"))


def test_a_database_password_never_reaches_any_output(demo_dir, tmp_path, monkeypatch):
    import sqlalchemy as sa

    ds = analysis.load(demo_dir, as_of=AS_OF)
    url = f"sqlite:///{tmp_path / 'crm.sqlite'}"
    engine = sa.create_engine(url)
    for name, frame in ds.tables.items():
        frame.to_sql(name, engine, index=False)
    engine.dispose()
    secret = "s3cr3t-Pa55-do-not-leak"
    monkeypatch.setenv("QUOTACAST_DB_PASSWORD", secret)
    out = tmp_path / "out"
    report.run(url, period=PERIOD, as_of=AS_OF, out=out, log=lambda *_: None)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 8
    for path in files:
        assert secret not in path.read_text(errors="ignore"), path
    res = subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--data", f"postgresql://u:{secret}@db/crm", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and secret not in res.stderr + res.stdout


def test_schedule_prints_cron_and_systemd(tmp_path):
    lines = report.schedule_lines("data/demo", str(tmp_path), day=20, hour=6, fiscal_year_start=1)
    minute_hour_day_month = lines["crontab"].split()[:4]
    assert minute_hour_day_month == ["0", "6", "20", "3,6,9,12"] and "--period next" in lines["crontab"]
    assert ">> " in lines["crontab"] and "OnCalendar=*-3,6,9,12-20 06:00:00" in lines["timer"]
    assert report.schedule_lines("x", "y", fiscal_year_start=2)["crontab"].split()[3] == "1,4,7,10"
    res = subprocess.run([sys.executable, "-m", "analysis", "schedule", "--data", "data/demo"], capture_output=True, text=True)
    assert res.returncode == 0 and "crontab" in res.stdout and "[Timer]" in res.stdout


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (.ci/run installs the Debian package)")


def _chromium_flags(profile: Path) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ]


def _pdf_pages(pdf: bytes) -> int:
    """The number of pages of a PDF as Chromium writes it (page objects uncompressed): ``/Type /Page`` objects."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


@needs_chromium
def test_leadership_report_in_headless_chromium(first_run, tmp_path):
    _, final = first_run
    page = final / "50-summarise-for-leadership.html"
    flags = _chromium_flags(tmp_path / "profile")
    shot = tmp_path / "leadership.png"
    res = subprocess.run(
        [CHROMIUM, *flags, "--window-size=1100,1500", f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert shot.exists() and shot.stat().st_size > 20_000, res.stderr[-2000:]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    title = re.search(r"<title>(.*?)</title>", dom.stdout, re.S)
    assert title and PERIOD in title.group(1)
    for code in ("import analysis", "summary.headline(", "pd.read_csv("):
        assert code not in dom.stdout, f"code visible in the rendered page: {code}"
    code_cells = re.findall(r'class="([^"]*\bjp-CodeCell\b[^"]*)"', dom.stdout)
    assert code_cells and all("jp-mod-noInput" in c for c in code_cells), "a code cell shows its code"
    console_errors = [
        line for line in (res.stderr + dom.stderr).splitlines() if "CONSOLE" in line and ("Error" in line or "Uncaught" in line)
    ]
    assert console_errors == []
    from PIL import Image

    for other in final.glob("*.html"):  # every embedded image decodes: nothing for a browser to fail to load
        for data in re.findall(r'src="data:image/png;base64,([^"]+)"', other.read_text()):
            Image.open(io.BytesIO(base64.b64decode(data))).verify()
        assert not re.search(r'<img[^>]+src="(?!data:)', other.read_text()), f"{other.name} links an external image"
    with Image.open(shot) as img:
        assert img.size == (1100, 1500) and len(img.convert("L").getcolors(256)) > 10  # not a blank page


#: Paper sizes in PDF points (1/72 inch).
PAPER = {"A4": (595, 842), "letter": (612, 792)}


@needs_chromium
def test_the_leadership_page_prints_on_one_page_on_a4_and_on_letter(first_run, tmp_path):
    """Printed from the browser, the leadership page is one page on either paper (the page's print style: small
    margins and font, charts side by side and scaled, the glossary and links left to the screen). The paper is the
    reader's choice: a copy of the page asks for it as a printer's settings would."""
    _, final = first_run
    html = (final / "50-summarise-for-leadership.html").read_text(encoding="utf-8")
    assert "@media print" in html and "celltag_side_by_side" in html and "celltag_screen_only" in html
    for paper, (width, height) in PAPER.items():
        copy = tmp_path / f"leadership-{paper}.html"
        copy.write_text(html.replace("</head>", f"<style>@page {{ size: {paper}; }}</style></head>", 1), encoding="utf-8")
        pdf = tmp_path / f"leadership-{paper}.pdf"
        res = subprocess.run(
            [CHROMIUM, *_chromium_flags(tmp_path / "profile"), "--no-pdf-header-footer", f"--print-to-pdf={pdf}", copy.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert pdf.exists(), res.stderr[-2000:]
        data = pdf.read_bytes()
        box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
        assert box and (round(float(box.group(1))), round(float(box.group(2)))) == (width, height), f"not printed on {paper}"
        assert _pdf_pages(data) == 1, f"the leadership page prints on {_pdf_pages(data)} {paper} pages"


#: Where the browser tests leave their screenshots (git ignores it; CI keeps it as the run's artefacts).
ARTEFACTS = ROOT / "tests" / "artefacts" / "pages"
WIDTHS = (1100, 400)
SLICE = 8000  # the tallest screenshot, in pixels: a longer page is taken in several

#: A page seen through a frame of a given width (headless Chromium's window is at least 500 px wide; a frame can be
#: narrower) and, once loaded, measured from outside: its height, how wide it scrolls, each table sticking out of
#: the page, and the charts shown (images decoded and at least 100 px wide). The measures are written into the
#: host page as JSON, which ``--dump-dom`` returns.
_HOST = """<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;background:#fff}
#clip{height:%(clip)dpx;overflow:hidden}iframe{border:0;display:block}</style></head><body>
<div id="clip"><iframe id="page" src="%(src)s" style="width:%(width)dpx;height:%(height)dpx;margin-top:-%(top)dpx"></iframe></div>
<script>
document.getElementById("page").addEventListener("load", (event) => {
  const doc = event.target.contentDocument, root = doc.documentElement, page = root.clientWidth;
  const wide = [...doc.querySelectorAll("table")].map((t) => [t, t.getBoundingClientRect()])
    .filter(([, r]) => r.right > page + 1 || r.left < -1)
    .map(([t, r]) => `${(t.querySelector("th") || t).textContent.trim().slice(0, 60)}: ${Math.round(r.width)} px`);
  const charts = [...doc.querySelectorAll("img")].filter((i) => i.naturalWidth > 0 && i.getBoundingClientRect().width >= 100).length;
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({page, scroll_width: root.scrollWidth, height: root.scrollHeight, wide_tables: wide, charts});
  document.body.appendChild(out);
});
</script></body></html>
"""


def _see(page: Path, width: int, folder: Path, work: Path) -> dict:
    """``page`` at ``width`` px in headless Chromium: its measures (see :data:`_HOST`) and screenshots of the whole
    page (several when it is taller than :data:`SLICE`) in ``folder``, named after the page and the width; the host page
    and the browser's profile in ``work``."""
    from PIL import Image

    flags = [*_chromium_flags(work / "profile"), "--allow-file-access-from-files", "--virtual-time-budget=10000"]
    host = work / f"host-{page.stem}-{width}.html"
    window = max(width, 500)

    def open_(clip: int, height: int, top: int) -> None:
        host.write_text(_HOST % {"clip": clip, "src": page.as_uri(), "width": width, "height": height, "top": top}, encoding="utf-8")

    open_(900, 900, 0)
    dom = subprocess.run(
        [CHROMIUM, *flags, f"--window-size={window},900", "--dump-dom", host.as_uri()], capture_output=True, text=True, timeout=120
    )
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom.stdout, re.S)
    assert found, f"{page.name} at {width} px: nothing measured ({dom.stderr[-1000:]})"
    measured = json.loads(html_lib.unescape(found.group(1)))
    shots = []
    for k, top in enumerate(range(0, measured["height"], SLICE)):
        clip = min(SLICE, measured["height"] - top)
        open_(clip, measured["height"], top)
        shot = folder / f"{page.stem}-{width}px{f'-{k + 1}' if measured['height'] > SLICE else ''}.png"
        subprocess.run(
            [CHROMIUM, *flags, f"--window-size={window},{clip}", f"--screenshot={shot}", host.as_uri()], capture_output=True, timeout=120
        )
        with Image.open(shot) as img:
            img.crop((0, 0, width, clip)).save(shot)
        shots.append(shot)
    return measured | {"shots": shots}


@needs_chromium
def test_every_page_in_the_browser_at_1100_and_400_px(first_run, tmp_path):
    """Every page as a reader sees it, at 1,100 px (a laptop) and 400 px (a phone): screenshots of the whole page kept in
    tests/artefacts/pages; at 1,100 px no table is wider than the page and nothing scrolls sideways; the leadership
    page shows its charts; no page's visible text holds ``nan``, ``None``, ``inf`` or scientific notation."""
    from PIL import Image

    _, final = first_run
    if ARTEFACTS.exists():
        shutil.rmtree(ARTEFACTS)
    ARTEFACTS.mkdir(parents=True)
    pages = sorted(final.glob("*.html"))
    assert len(pages) == len(report.scheduled_notebooks())
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert report.unreadable(html) == [], f"{page.name}: {report.unreadable(html)[:3]}"
        for width in WIDTHS:
            seen = _see(page, width, ARTEFACTS, tmp_path)
            assert seen["page"] == width and seen["shots"], f"{page.name} was not seen at {width} px"
            for shot in seen["shots"]:
                with Image.open(shot) as img:
                    assert img.width == width and len(img.convert("L").getcolors(256)) > 5, f"{shot.name} is blank"
            if width == 1100:
                assert seen["wide_tables"] == [], f"{page.name}: tables wider than the page at 1,100 px: {seen['wide_tables']}"
                assert seen["scroll_width"] <= width, f"{page.name} scrolls sideways at 1,100 px"
            if page.name.startswith("50-"):
                assert seen["charts"] >= 2, f"the leadership page shows {seen['charts']} charts at {width} px"
    print(f"\nscreenshots of every page at {' and '.join(map(str, WIDTHS))} px: {ARTEFACTS}")


@needs_chromium
def test_the_browser_check_sees_a_table_wider_than_the_page_and_counts_charts(tmp_path):
    """The measures the page test relies on: a table sticking out of the page is named, a chart counted."""
    pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    page = tmp_path / "wide.html"
    page.write_text(
        "<html><body><table style='width:1500px'><tr><th>far too wide</th></tr></table>"
        f"<img src='data:image/png;base64,{pixel}' style='width:300px'><p>text</p></body></html>"
    )
    seen = _see(page, 1100, tmp_path, tmp_path)
    assert seen["wide_tables"] == ["far too wide: 1500 px"] and seen["charts"] == 1 and seen["scroll_width"] > 1100
    assert [s.name for s in seen["shots"]] == ["wide-1100px.png"]


@needs_chromium
def test_the_target_slider_works_in_the_leadership_page_opened_from_a_file(first_run, tmp_path):
    """The slider survives nbconvert (its data and script are in the page), fetches nothing, starts at the sweep's row
    for the actual target and over-assignment, and moved in the browser shows the sweep's row it is moved to."""
    from test_slider import _shown, expected_row, move_in_chromium

    from analysis import outputs

    _, final = first_run
    page = final / "50-summarise-for-leadership.html"
    html = page.read_text(encoding="utf-8")
    assert 'class="qc-slider"' in html and '<script type="application/json">' in html
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?(https?:)?//", html), "the page fetches something from the network"
    sweep = outputs.read(final, "scenarios.csv")
    today = sweep[sweep["today"].astype(str) == "True"].iloc[0]
    assert _shown(html) == expected_row(today)
    moved = move_in_chromium(page, tmp_path, target=0, over=-1)
    lowest = sweep[(sweep["target"] == sweep["target"].min()) & (sweep["overassignment"] == sweep["overassignment"].max())].iloc[0]
    assert moved["before"] == expected_row(today) and moved["after"] == expected_row(lowest)
    assert moved["after"]["share"] != moved["before"]["share"]


def test_top_risks_are_ordered_and_carry_their_numbers():
    from analysis.summary import top_risks

    plan = {"p_hat": 0.26, "attainment_share": 0.6, "target": 5e6}
    reach = pd.DataFrame({"level": ["company", "team", "team"], "group": ["all", "East", "West"], "p_reach": [0.1, 0.05, 0.6]})
    metrics = pd.DataFrame(
        {
            "metric": ["pipeline_coverage", "required_coverage"],
            "dimension": "company",
            "group": "all",
            "period": "2026Q3",
            "value": [3.0, 4.5],
        }
    )
    accounting = pd.DataFrame({"rows_in": [100], "rows_quarantined": [10]})
    coaching = pd.DataFrame({"gap": [1000.0, 500.0]})
    risks = top_risks(plan, reach, metrics, accounting, coaching, "2026-11-15")
    assert risks[0].startswith("The target is out of reach") and "26%" in risks[0] and "60%" in risks[0]
    assert "East (5%)" in risks[1] and "West" not in risks[1]
    assert "3.0x" in risks[2] and "4.5x" in risks[2]
    assert any("2 reps" in r and "1.5k" in r for r in risks) and any("10%" in r for r in risks)
    calm = top_risks(
        {"p_hat": 0.7},
        reach.iloc[:1],
        metrics.assign(value=[5.0, 4.5]),
        accounting.assign(rows_quarantined=0),
        coaching.iloc[:0],
        "2026-11-15",
    )
    assert calm == []


@pytest.mark.parametrize("quota_type", ["activities", "won_deals"])
def test_the_quota_notebook_plans_other_quota_types(first_run, demo_dir, tmp_path, quota_type):
    """40 re-run alone on a copy of a finished run with another quota type: quotas in that unit, from its own forecast."""
    import papermill as pm

    from analysis import quota

    _, final = first_run
    work = tmp_path / "run"
    shutil.copytree(final, work, ignore=shutil.ignore_patterns("history", "failed", "*.html"))
    nb = report.NOTEBOOKS_DIR / "40-recommend-quotas.ipynb"
    pm.execute_notebook(
        str(nb),
        str(work / "out.ipynb"),
        parameters={
            "data": str(demo_dir),
            "as_of": AS_OF,
            "period": PERIOD,
            "run_dir": str(work),
            "quota_type": quota_type,
            "draws": 500,
            "policy_backtest_quarters": 2,
        },
        cwd=str(nb.parent),
        progress_bar=False,
        log_output=False,
    )
    got = pd.read_csv(work / "quotas.csv", keep_default_na=False, na_values=[""])
    ds = analysis.load(demo_dir, as_of=AS_OF)
    inputs = quota.plan_inputs(ds, PERIOD, quota_type=quota_type)
    draws = quota.forecaster_for(quota_type, 500, 0).fit(ds).predict(PERIOD).rep_draws()
    want = quota.QuotaRecommender(max_change=0.5, quota_type=quota_type).recommend(
        draws, inputs.target, reps=inputs.reps, last_year=inputs.last_year, period=PERIOD, team_targets=inputs.team_targets
    )
    assert (got.quota_type == quota_type).all() and set(got.rep_id) == set(ds.active_reps().rep_id)
    np.testing.assert_allclose(got.quota, want.quotas.quota, rtol=1e-9)
    assert got.p_attain.mean() == pytest.approx(0.65, abs=0.03)  # no target of this type: quotas at the attainment share
    record = json.loads((work / "quota_plan.json").read_text())
    assert record["quota_type"] == quota_type and record["target"] is None


def test_a_run_in_euros_shows_euros_on_the_leadership_page_and_no_dollar(first_run, demo_dir, tmp_path):
    """The plan and the leadership page (40 and 50) re-run with the currency set to €, on a copy of a finished run:
    every amount on the page (sentences, the plan's warnings, tables, the slider) carries €, and no $ appears; the
    console's closing lines too."""
    import papermill as pm
    from test_slider import _data

    from analysis import outputs

    _, final = first_run
    work = tmp_path / "run"
    shutil.copytree(final, work, ignore=shutil.ignore_patterns("history", "failed", "*.html"))
    manifest = json.loads((work / "manifest.json").read_text())
    for name in ("40-recommend-quotas.ipynb", "50-summarise-for-leadership.ipynb"):
        params = manifest["parameters"][name] | {"run_dir": str(work), "currency": "€"}
        params |= {"data": str(demo_dir)} if "data" in params else {}
        pm.execute_notebook(
            str(report.NOTEBOOKS_DIR / name), str(work / name), parameters=params, cwd=str(work), progress_bar=False, log_output=False
        )
    report.render_html(work / "50-summarise-for-leadership.ipynb", work / "leadership.html", "leadership")
    html = (work / "leadership.html").read_text(encoding="utf-8")
    text = report.visible_text(html)
    plan = outputs.read(work, "quota_plan.json")
    assert text.count("€") >= 20 and "$" not in text, text[:2000]
    assert any("€" in w for w in plan["warnings"]) and f"target of €{report.money(plan['target'])}" in text
    assert re.search(r"Company\s+€[\d.]+[kM]\s+€", text), "the team table's amounts carry the currency"
    assert all(row["target"].startswith("€") for rows in _data(html) for row in rows), "the slider's amounts carry the currency"
    assert report.unreadable(html) == []
    manifest["settings"]["currency"] = "€"
    (work / "manifest.json").write_text(json.dumps(manifest))
    summary = report.closing_summary(work)
    assert "€" in summary[0] and "$" not in " ".join(summary) and report.money(1e6) == "1.0M"


def test_the_run_folder_is_movable_and_the_console_says_one_line_per_notebook(demo_dir, tmp_path):
    """No output holds a path of this machine (the run's build folder, the project, the data as resolved): the data
    appear as the user gave them. The console: one line per notebook and a closing summary, no kernel warnings."""
    work = tmp_path / "work"
    shutil.copytree(demo_dir, work / "crm")
    res = subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--data", "crm", "--as-of", AS_OF, "--out", "reports", "--param", "draws=200"],
        capture_output=True,
        text=True,
        cwd=work,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "IPKernelApp" not in res.stderr and "Traceback" not in res.stderr
    assert not list((work / "reports").rglob(report.KERNEL_LOG)), "the kernels' log is not part of a complete run"
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1 + len(report.scheduled_notebooks()) + 3 and lines[-1].startswith("complete in")
    assert lines[-3].startswith("  forecast 2027Q1:") and "chance of reaching it" in lines[-3] and "expected to attain" in lines[-2]
    machine = [str(work), str(ROOT), ".tmp-"]
    for path in (work / "reports").rglob("*"):
        if path.suffix in {".csv", ".json", ".ipynb", ".html"}:
            text = path.read_text(encoding="utf-8")
            assert not [m for m in machine if m in text], f"{path.name} holds a machine path"
    manifest = json.loads((work / "reports" / PERIOD / "manifest.json").read_text())
    assert manifest["source"] == "crm" and manifest["parameters"]["10-check-data.ipynb"]["data"] == "crm"
    index = (work / "reports" / "index.html").read_text()
    assert "2026-11-15" in index and "expected to reach quota" in index and "aim 65%" in index
    quiet = subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--data", "crm", "--as-of", AS_OF, "--out", "reports", "--param", "draws=200", "--quiet"],
        capture_output=True,
        text=True,
        cwd=work,
    )
    assert quiet.returncode == 0 and len(quiet.stdout.strip().splitlines()) == 1


def test_the_notebooks_are_views_the_job_writes_what_the_package_steps_compute(first_run, demo_dir, tmp_path):
    """Behaviour unchanged by moving the run into the package: the same data and settings through
    ``steps.run_all`` in this process give every table the notebooks wrote, byte for byte (same seeds, same draws)."""
    from analysis import outputs, steps

    _, final = first_run
    ds = analysis.load(demo_dir, as_of=AS_OF)
    steps.run_all(ds, Settings(), PERIOD, tmp_path)
    compared = 0
    for name in outputs.OUTPUTS:
        if name.endswith((".csv", ".parquet")):
            a, b = outputs.read(final, name), outputs.read(tmp_path, name)
            pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=name)
            compared += 1
    assert compared >= 14


def test_a_cell_that_runs_too_long_stops_the_run_with_a_clear_message(first_run, demo_dir, tmp_path, monkeypatch):
    # A kernel that never answers (a lost message, a stuck database) must not hang a scheduled run for ever.
    out, final = first_run
    before = _digest(final)
    slow = tmp_path / "30-sleep.ipynb"
    nb = _notebook(
        nbformat.v4.new_code_cell('period = "x"  # quarter', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import time\ntime.sleep(60)"),
    )
    nbformat.write(nb, slow)
    monkeypatch.setattr(report, "CELL_TIMEOUT_S", 3)
    t = time.perf_counter()
    with pytest.raises(report.RunError, match=r"notebook 30-sleep.ipynb failed: a cell ran for more than 3 s"):
        report.run(str(demo_dir), period=PERIOD, as_of=AS_OF, out=out, notebooks=[slow], log=lambda *_: None)
    assert time.perf_counter() - t < 50
    after = _digest(final)
    assert {k: v for k, v in after.items() if k in before} == before  # the previous report is untouched
    assert not list(out.glob(".tmp-*")) and not list(out.glob(".*.lock"))


def test_the_console_says_there_is_no_forecast_instead_of_printing_zeros():
    from analysis.report import _summary_lines

    h = {
        "period": "2027Q1",
        "reps": 41,
        "p_hat": 0.24,
        "attainment_share": 0.65,
        "target": 5.3e6,
        "forecast_p50": 0.0,
        "forecast_p10": 0.0,
        "forecast_p90": 0.0,
        "no_forecast": "No deal has ever been won.",
        "plan_without_forecast": True,
    }
    lines = _summary_lines(h)
    assert lines[0] == "  forecast 2027Q1: none. No deal has ever been won."
    assert "24%" not in " ".join(lines) and "no chance of attaining stated" in lines[1]
    h["plan_without_forecast"] = False  # activity quotas are forecast from activities, not from wins
    lines = _summary_lines(h)
    assert lines[0].startswith("  forecast 2027Q1: none.") and "24% expected to attain" in lines[1]
    del h["no_forecast"]
    assert "24% expected to attain" in " ".join(_summary_lines(h))
