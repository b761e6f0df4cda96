"""The quarterly run: execute the scheduled notebooks into a temporary folder, render them, write the tables
and a manifest, and move the folder into place only when everything succeeded.

Layout under ``out``: ``<period>/`` holds the latest complete run (HTML reports, executed notebooks, tables,
``manifest.json``); ``<period>/history/<finished>/`` earlier runs; ``<period>/failed/<started>/`` the executed
notebook of a failed run; ``index.html`` lists every run. A failed run never touches the previous good one.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
import psutil
import pyarrow as pa
from jinja2 import DictLoader
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter

from analysis import outputs, preflight
from analysis.config import PROJECT_DIR, Settings
from analysis.data import LOADED_SUFFIX, MEMO_FOLDER, describe_source, is_database, load, save_loaded
from analysis.present import currency, money, share
from analysis.summary import chance

NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
CELL_TIMEOUT_S = 3600  # longest a notebook cell may run: the 2,000-rep company's whole forecast takes 80 s
PACKAGES = (
    "quotacast",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "scikit-learn",
    "pandera",
    "papermill",
    "nbconvert",
    "seaborn",
    "matplotlib",
)


#: The notebooks' kernels write their own messages (stdout and stderr of the kernel process: IPKernelApp's log, such
#: as a KeyboardInterrupt caught at shutdown) here, in the folder they run in, instead of on the console. A complete
#: run deletes it; a failed one keeps it (without machine paths) beside the failed notebook.
KERNEL_LOG = "kernels.log"


#: The kernels' numeric libraries on one thread each (the run puts one notebook on each core).
SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class LocalKernelManager(AsyncKernelManager):
    """The notebooks' kernels talk over local sockets (IPC) rather than TCP: nothing leaves the machine, and the
    kernel has no reason to warn about an unencrypted network connection on every notebook. Their own output goes to
    :data:`KERNEL_LOG` in their working folder, not to the console. Asynchronous, as nbclient expects: with a blocking
    manager its waits for messages held up its event loop, so no cell timeout could fire."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.transport = "ipc"
        # Each kernel its own socket files (the default names would be shared by kernels running side by side).
        self.ip = os.path.join(tempfile.gettempdir(), f"quotacast-{uuid.uuid4().hex[:12]}")
        self._kernel_log = None

    async def _async_pre_start_kernel(self, **kw):
        if kw.get("stderr") is None or kw.get("stderr") is self._kernel_log:  # a restart gets a fresh handle
            self._kernel_log = open(Path(kw.get("cwd") or os.getcwd()) / KERNEL_LOG, "ab")  # closed once the kernel has started
            kw["stdout"] = kw["stderr"] = self._kernel_log
        # Notebooks run side by side, one per core: a kernel's linear algebra on one thread each, or the kernels'
        # thread pools fight over the same cores (unless the user set these).
        kw["env"] = {**SINGLE_THREADED, **(kw.get("env") or os.environ)}
        return await super()._async_pre_start_kernel(**kw)

    async def _async_post_start_kernel(self, **kw) -> None:
        await super()._async_post_start_kernel(**kw)
        if self._kernel_log is not None:
            self._kernel_log.close()  # the kernel process holds its own copy


def scrub(notebook: Path, replacements: dict[str, str]) -> None:
    """An executed notebook (or a table the run wrote) without this machine's paths (the run folder, the project, the data as resolved): each
    replaced by what the user gave or a path relative to the run."""
    text = notebook.read_text(encoding="utf-8")
    escaped = notebook.suffix in {".ipynb", ".json"}
    for old, new in sorted(replacements.items(), key=lambda kv: -len(kv[0])):
        if old:
            text = text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1]) if escaped else text.replace(old, new)
    notebook.write_text(text, encoding="utf-8")


def headline_numbers(run_dir: Path) -> dict[str, Any]:
    """The run's headline as plain values (manifest, index, console): the company forecast of the planned period
    (median, 80 % range, the model), the target and the chance of reaching it, the plan's expected share attaining."""
    record = outputs.read(run_dir, "quota_plan.json")
    forecast = outputs.read(run_dir, "forecast.csv")
    reach = outputs.read(run_dir, "forecast_vs_target.csv")
    f = forecast[(forecast["level"] == "company") & (forecast["period"] == record["period"])]
    f = f[f["headline"].astype(str) == "True"] if "headline" in f else f[f["method"].str.startswith("pipeline")].head(1)
    company = reach[reach["level"] == "company"]
    out: dict[str, Any] = {
        "period": record["period"],
        "reps": record["reps"],
        "p_hat": record["p_hat"],
        "attainment_share": record["attainment_share"],
        "target": record["target"],
    }
    if len(f):
        out |= {
            "forecast_p50": float(f["p50"].iloc[0]),
            "forecast_p10": float(f["p10"].iloc[0]),
            "forecast_p90": float(f["p90"].iloc[0]),
            "forecast_method": str(f["method"].iloc[0]),
        }
    if len(company):
        out |= {"p_reach": float(company["p_reach"].iloc[0]), "bookings_target": float(company["target"].iloc[0])}
    gaps = outputs.read(run_dir, "sections.csv")
    basis = gaps[(gaps["key"] == "forecast_basis") & (gaps["shown"] == "no")]
    if len(basis):  # nothing was ever won: the forecast books nothing
        out["no_forecast"] = str(basis["why not"].iloc[0])
    out["plan_without_forecast"] = bool(record.get("no_forecast"))  # and no forecast stands behind the quotas
    return out


def closing_summary(final: Path) -> list[str]:
    """The console's closing lines: forecast, chance of the target, plan realism."""

    try:
        manifest = json.loads((final / "manifest.json").read_text())
        h = manifest["headline"]
    except (OSError, KeyError, ValueError):
        return []
    with currency(manifest.get("settings", {}).get("currency")):
        return _summary_lines(h)


def _summary_lines(h: dict[str, Any]) -> list[str]:
    lines = []
    if "no_forecast" in h:
        lines.append(f"  forecast {h['period']}: none. {h['no_forecast']}")
    elif "forecast_p50" in h:
        line = f"  forecast {h['period']}: {money(h['forecast_p50'])} (80 % range {money(h['forecast_p10'])} to {money(h['forecast_p90'])})"
        if "p_reach" in h:
            line += f"; target {money(h['bookings_target'])}, chance of reaching it {chance(h['p_reach'])}"
        lines.append(line)
    if h.get("plan_without_forecast"):
        return [*lines, f"  plan: quotas for {h['reps']:,} reps, with no chance of attaining stated (no forecast stands behind them)"]
    lines.append(
        f"  plan: quotas for {h['reps']:,} reps, {share(h['p_hat'])} expected to attain (aim {share(h['attainment_share'])})"
        + ("" if h.get("target") is not None else "; no target given")
    )
    return lines


class RunError(RuntimeError):
    """The run could not be completed; the message names the notebook or the reason."""

    exit_code = 1


class RunLocked(RunError):
    exit_code = 3


def scheduled_notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The scheduled notebooks, in run order (``NN-verb-noun.ipynb``; ``exploratory/`` is never scheduled)."""
    return sorted(p for p in folder.glob("[0-9][0-9]-*.ipynb"))


#: Which notebooks must finish before a notebook starts (they write what it reads). A notebook not named here (one a
#: user added) runs after every other; the rest run side by side, as many at a time as ``jobs``.
NEEDS: dict[str, tuple[str, ...]] = {
    "10-check-data": (),
    "20-measure-pipeline": (),
    "30-forecast-bookings": (),
    "40-recommend-quotas": ("20-measure-pipeline", "30-forecast-bookings"),
    "50-summarise-for-leadership": ("10-check-data", "20-measure-pipeline", "30-forecast-bookings", "40-recommend-quotas"),
}


def needs(notebooks: list[Path]) -> dict[str, set[str]]:
    """Per notebook (by stem) the notebooks of this run it waits for (:data:`NEEDS`; others wait for all)."""
    stems = [nb.stem for nb in notebooks]
    return {s: set(NEEDS[s]) & set(stems) if s in NEEDS else {t for t in stems if t in NEEDS} for s in stems}


def default_jobs() -> int:
    """Notebooks run side by side: one per core, at most three (no step has more than three independent ones)."""
    return max(1, min(os.cpu_count() or 1, 3))


class PeakMemory:
    """The largest resident memory of this process and its children (the notebooks' kernels) together, sampled
    every ``every`` seconds while the ``with`` block runs: the run's peak, kernels included."""

    def __init__(self, every: float = 0.2) -> None:
        self.every, self.peak = every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while True:
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def gb(self) -> float:
        return round(self.peak / 2**30, 2)


def run_parameters(data: str, period: str, as_of: str, settings: Settings, mapping: str | None, run_dir: Path) -> dict[str, Any]:
    """Every parameter the runner can give a notebook; each notebook receives the ones it declares."""
    params = {
        "data": data,
        "mapping": mapping or "",
        "period": period,
        "as_of": as_of,
        "run_dir": str(run_dir),
    }
    params.update(settings.to_dict())
    return params


def check_parameters(notebooks: list[Path], available: dict[str, Any]) -> dict[Path, dict[str, Any]]:
    """Each notebook's parameters, checked before anything runs (papermill itself only warns): a parameter a
    notebook declares that the run cannot give is refused. The values were checked before (:class:`Settings`)."""
    problems, chosen = [], {}
    for nb in notebooks:
        declared = pm.inspect_notebook(str(nb))
        missing = [name for name in declared if name not in available]
        if missing:
            problems.append(f"{nb.name} declares parameter(s) {missing} that the run does not provide")
        chosen[nb] = {name: available[name] for name in declared if name in available}
    if problems:
        raise RunError("Parameters refused before running anything:\n  " + "\n  ".join(problems))
    return chosen


#: The pages' own style, after the notebook's: charts of a cell tagged ``side_by_side`` share a row on a wide screen
#: and on paper; cells tagged ``screen_only`` are not printed; printed, a page has small margins, a smaller font,
#: no prompts or input areas, charts scaled to fit and no page break inside a chart, a table or a paragraph (the
#: leadership page prints on one A4 or Letter page).
PAGE_CSS = """
@page { margin: 9mm 11mm; }
.celltag_side_by_side .jp-OutputArea { display: flex; flex-wrap: wrap; gap: 0 2%; align-items: flex-start; }
.celltag_side_by_side .jp-OutputArea-child { flex: 1 1 48%; min-width: 0; }
@media screen and (max-width: 760px) { .celltag_side_by_side .jp-OutputArea-child { flex-basis: 100%; } }
@media print {
  :root, body, .jp-Notebook {
    --jp-content-font-size1: 8pt; --jp-ui-font-size1: 7.5pt; --jp-code-font-size: 7.5pt; --jp-content-line-height: 1.3;
    --jp-content-heading-margin-top: 5pt; --jp-content-heading-margin-bottom: 2pt; --jp-content-heading-line-height: 1.15;
  }
  html, body { background: #fff; }
  body.jp-Notebook, .jp-Notebook { padding: 0 !important; margin: 0 !important; font-size: 8pt; }
  .jp-InputPrompt, .jp-OutputPrompt, .jp-Collapser, .jp-CodeCell .jp-InputArea, .jp-CodeCell.jp-mod-noOutputs,
  .anchor-link, .celltag_screen_only, .jp-Cell:has(> .jp-Cell-inputWrapper .celltag_screen_only) { display: none !important; }
  .jp-Cell, .jp-Notebook-cell, .jp-Cell-outputWrapper, .jp-OutputArea-child, .jp-OutputArea-output,
  .jp-RenderedHTMLCommon { padding: 0 !important; margin: 0 !important; }
  .jp-RenderedHTMLCommon h1 { font-size: 12pt; margin: 0 0 2pt; }
  .jp-RenderedHTMLCommon h2 { font-size: 9.5pt; margin: 5pt 0 2pt; }
  .jp-RenderedHTMLCommon h3, .jp-RenderedHTMLCommon h4 { font-size: 8pt; margin: 3pt 0 1pt; }
  .jp-RenderedHTMLCommon p, .jp-RenderedHTMLCommon ul, .jp-RenderedHTMLCommon ol { margin: 0 0 2.5pt; }
  .jp-RenderedHTMLCommon table { font-size: 7.2pt; margin: 2pt 0 3pt; }
  .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { padding: 0.5pt 5pt; line-height: 1.2; }
  .jp-RenderedImage img { max-height: 6cm; max-width: 100%; width: auto; height: auto; }
  img, table, tr, p, li, .jp-RenderedImage, .jp-OutputArea-child { break-inside: avoid; }
  h1, h2, h3, h4 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


#: The notebook's HTML page (nbconvert's lab template) without what it fetches from the network (require.js, MathJax,
#: Mermaid: nothing on these pages uses them, and a page must work offline), with :data:`PAGE_CSS` after its own style,
#: and each chart's alt text (``present.described``, kept in the output's metadata) on its image.
_TEMPLATE = (
    """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}<style type="text/css">"""
    + PAGE_CSS
    + """</style>{%- endblock html_head_css -%}
{%- block data_png scoped -%}
{%- set alt = output | get_metadata('alt', 'image/png') -%}
{%- if alt -%}{{ super() | replace('<img ', '<img alt="' ~ (alt | escape_html) ~ '" ', 1) }}{%- else -%}{{ super() }}{%- endif -%}
{%- endblock data_png -%}
"""
)


def render_html(notebook: Path, target: Path, title: str) -> None:
    """A self-contained HTML page without code: inputs and prompts hidden, images embedded, nothing fetched from
    the network, the house page style (:data:`PAGE_CSS`: side-by-side charts, print)."""
    nb = nbformat.read(notebook, as_version=4)
    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"quotacast.html.j2": _TEMPLATE})],
        template_file="quotacast.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    target.write_text(body, encoding="utf-8")


class _Text(HTMLParser):
    """The text a reader sees: everything outside <script>, <style> and <head>."""

    HIDDEN = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in self.HIDDEN:
            self.depth += 1

    def handle_endtag(self, tag) -> None:
        if tag in self.HIDDEN and self.depth:
            self.depth -= 1

    def handle_data(self, data) -> None:
        if not self.depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The visible text of a rendered page."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


#: What a reader must never see: numbers made from nothing, and scientific notation.
UNREADABLE = re.compile(r"\b(nan|NaN|NaT|None|inf|-inf|Infinity)\b|nanx|\d\.?\d*e[+-]\d+")


def unreadable(html: str) -> list[str]:
    """Each place in a page's visible text where it shows ``nan``, ``None``, ``inf`` or scientific notation,
    with a little context."""
    text = visible_text(html)
    return [text[max(0, m.start() - 40) : m.end() + 40] for m in UNREADABLE.finditer(text)]


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")


@dataclass
class Lock:
    path: Path

    def __enter__(self) -> Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            holder = self.path.read_text().strip() if self.path.exists() else "unknown"
            raise RunLocked(f"another run of this period is in progress ({holder}); if none is, delete {self.path}") from None
        with os.fdopen(fd, "w") as fh:
            fh.write(f"pid {os.getpid()} on {platform.node()}, started {_now()}")
        return self

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


def run(
    data: str,
    period: str = "next",
    as_of: str | None = None,
    out: str | Path = "reports",
    mapping: str | None = None,
    settings: Settings | None = None,
    overrides: dict[str, Any] | None = None,
    notebooks: list[Path] | None = None,
    log=print,
    verbose: bool = False,
    jobs: int | None = None,
) -> Path:
    """Run the quarter's notebooks on ``data`` and return the folder of the complete run (``out/<period>``).

    ``period`` is a fiscal quarter label or ``next`` (the quarter after the as-of date, default today).
    Raises :class:`~analysis.data.DataError` (unusable data: nothing is run), :class:`RunLocked` (a run of
    the same period is in progress) or :class:`RunError` (a notebook failed; its executed copy is kept
    under ``out/<period>/failed/<started>/``). ``log`` gets one line per notebook and a closing summary;
    ``verbose`` also streams the notebooks' own output. ``jobs`` notebooks run side by side where they do not depend
    on each other (default: one per core, at most three); the data are loaded and checked once, here, and the
    notebooks read that copy.
    """
    settings = preflight.settings_with(settings or Settings(), dict(overrides or {}))
    out = Path(out).resolve()
    as_of_ts = preflight.parse_as_of(as_of)
    as_of_day = as_of_ts.date().isoformat()
    period = preflight.run_period(period, as_of_ts, settings.fiscal_year_start)
    notebooks = notebooks or scheduled_notebooks()
    if not notebooks:
        raise RunError(f"no scheduled notebooks in {NOTEBOOKS_DIR}")
    final = out / period
    started, t0 = _now(), time.perf_counter()
    with Lock(out / f".{period}.lock"), PeakMemory() as memory:
        ds = load(data, mapping=mapping, as_of=as_of_day, fiscal_year_start=settings.fiscal_year_start)  # DataError: exit 2
        preflight.check(ds, settings, period)  # what can never work is refused before any notebook runs
        tmp = out / f".tmp-{period}-{_stamp()}"
        # Notebooks run inside the run folder: paths (data, a mapping file) must not be relative.
        data_param = str(data) if is_database(data) else str(Path(data).resolve())
        mapping_param = str(Path(mapping).resolve()) if mapping and Path(mapping).exists() else mapping
        loaded = tmp / f"data{LOADED_SUFFIX}"  # the data loaded and checked once, read by every notebook
        params = check_parameters(notebooks, run_parameters(str(loaded), period, as_of_day, settings, mapping_param, tmp))
        # What an executed notebook must not keep: this machine's paths (the run folder is movable, and sent around).
        machine_paths = {
            str(loaded): str(data),
            str(tmp): ".",
            data_param: str(data),
            str(NOTEBOOKS_DIR): "notebooks",
            str(PROJECT_DIR): ".",
        }
        if mapping_param and mapping_param != mapping:
            machine_paths[str(mapping_param)] = str(mapping)
        log(f"quotacast run {period} (data as of {as_of_day}) -> {final}")
        tmp.mkdir(parents=True)  # only now: refused parameters leave nothing behind
        try:
            save_loaded(ds, loaded)
            inputs = _inputs(ds)
            del ds  # the kernels hold the data now; give its memory back (pyarrow's pool keeps it otherwise: 0.85 GB
            gc.collect()  # of 1.1 GB at 2,000 reps, held for the whole run)
            pa.default_memory_pool().release_unused()
            durations = _execute(notebooks, params, tmp, final, machine_paths, period, jobs or default_jobs(), log, verbose)
            loaded.unlink()
            shutil.rmtree(tmp / MEMO_FOLDER, ignore_errors=True)  # what the notebooks shared, not an output
            (tmp / KERNEL_LOG).unlink(missing_ok=True)  # the kernels' own messages are not part of the report
            missing = outputs.missing(tmp)
            if missing:
                raise RunError(f"the notebooks ran but did not write {missing}")
            for table in tmp.iterdir():  # the tables name the data as given, never as resolved on this machine
                if table.suffix in {".csv", ".json"}:
                    scrub(table, machine_paths)
            manifest = {
                "period": period,
                "as_of": as_of_day,
                "status": "complete",
                "started": started,
                "finished": _now(),
                "seconds": round(time.perf_counter() - t0, 2),
                "peak_memory_gb": memory.gb,
                "jobs": jobs or default_jobs(),
                "source": describe_source(data),
                "mapping": mapping or "identity",
                "parameters": {
                    nb.name: p | {"run_dir": "<run folder>", "data": str(data)} | ({"mapping": mapping or ""} if "mapping" in p else {})
                    for nb, p in params.items()
                },
                "headline": headline_numbers(tmp),
                "settings": settings.to_dict(),
                "inputs": inputs,
                "durations_s": durations,
                "versions": {"python": platform.python_version()} | {p: version(p) for p in PACKAGES},
                "tables": sorted(p.name for p in tmp.iterdir() if p.suffix in {".csv", ".xlsx", ".parquet"}),
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
            _move_into_place(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
        write_index(out)
    for line in closing_summary(final):
        log(line)
    log(f"complete in {time.perf_counter() - t0:.1f} s, peak memory {memory.gb:.1f} GB: {final / '50-summarise-for-leadership.html'}")
    return final


def _execute(
    notebooks: list[Path],
    params: dict[Path, dict[str, Any]],
    tmp: Path,
    final: Path,
    machine_paths: dict[str, str],
    period: str,
    jobs: int,
    log,
    verbose: bool,
) -> dict[str, float]:
    """Execute and render the notebooks into ``tmp``, each once the notebooks it needs (:func:`needs`) are done,
    up to ``jobs`` at a time; the first failure stops the run (:class:`RunError`). Returns the seconds of each."""
    waits = needs(notebooks)
    by_stem = {nb.stem: nb for nb in notebooks}
    durations: dict[str, float] = {}

    def one(nb: Path) -> None:
        target = tmp / nb.name
        t = time.perf_counter()
        try:
            pm.execute_notebook(
                str(nb),
                str(target),
                parameters=params[nb],
                kernel_name="python3",
                cwd=str(tmp),
                progress_bar=verbose and jobs == 1 and sys.stderr.isatty(),
                log_output=verbose,
                kernel_manager_class="analysis.report.LocalKernelManager",
                execution_timeout=CELL_TIMEOUT_S,  # a kernel that stops answering must not hang a scheduled run
            )
        except (pm.PapermillExecutionError, CellTimeoutError, DeadKernelError) as exc:
            failed = final / "failed" / _stamp()
            failed.mkdir(parents=True)
            if target.exists():
                shutil.copy2(target, failed / nb.name)
                scrub(failed / nb.name, machine_paths)
            if (tmp / KERNEL_LOG).exists():
                (failed / KERNEL_LOG).write_text((tmp / KERNEL_LOG).read_text(encoding="utf-8", errors="replace"), encoding="utf-8")
                scrub(failed / KERNEL_LOG, machine_paths)
            if isinstance(exc, CellTimeoutError):
                why = f"a cell ran for more than {CELL_TIMEOUT_S} s (report.CELL_TIMEOUT_S) and was stopped"
            elif isinstance(exc, DeadKernelError):
                why = "its kernel died (out of memory?)"
            else:
                why = f"{exc.ename}: {exc.evalue}"
            raise RunError(f"notebook {nb.name} failed: {why} (executed notebook kept in {failed})") from None
        scrub(target, machine_paths)
        durations[nb.name] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        render_html(target, tmp / f"{nb.stem}.html", f"Quotacast {period}: {nb.stem.split('-', 1)[1].replace('-', ' ')}")
        durations[f"{nb.stem}.html"] = round(time.perf_counter() - t, 2)
        log(f"  {nb.stem:<30} {durations[nb.name] + durations[nb.stem + '.html']:6.1f} s")

    done: set[str] = set()
    running: dict[Any, str] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while len(done) < len(notebooks):
            ready = [s for s in by_stem if s not in done and s not in running.values() and waits[s] <= done]
            for stem in ready[: jobs - len(running)]:
                running[pool.submit(one, by_stem[stem])] = stem
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                stem = running.pop(future)
                if future.exception() is not None:
                    for other in running:
                        other.cancel()
                    wait(list(running))  # let the others end before the run folder is removed
                    raise future.exception()
                done.add(stem)
    return durations


def _inputs(ds) -> list[dict]:
    acc = ds.accounting.set_index("table")
    return [
        {
            "table": f.table,
            "file": f.file,
            "sha256": f.sha256,
            "rows_in": int(acc.loc[f.table, "rows_in"]),
            "rows_used": int(acc.loc[f.table, "rows_used"]),
            "rows_quarantined": int(acc.loc[f.table, "rows_quarantined"]),
        }
        for f in ds.inputs
    ]


def _move_into_place(tmp: Path, final: Path) -> None:
    """Swap the new run in; the previous complete run goes to ``history/<its finish time>/``."""
    if final.exists():
        keep = {name: final / name for name in ("history", "failed") if (final / name).exists()}
        previous = final.parent / f".prev-{final.name}-{_stamp()}"
        final.rename(previous)
        tmp.rename(final)
        for name in keep:
            (previous / name).rename(final / name)
        if (previous / "manifest.json").exists():
            finished = json.loads((previous / "manifest.json").read_text()).get("finished", _stamp())
            dest = final / "history" / finished.replace(":", "")
            dest.parent.mkdir(parents=True, exist_ok=True)
            previous.rename(dest)
        else:
            shutil.rmtree(previous)
    else:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(final)


def write_index(out: Path) -> Path:
    """``out/index.html``: every run (latest, history, failed), latest first, with its period, as-of date, headline
    numbers and status, linked; a static page that works offline."""
    from html import escape

    rows = []
    for manifest in sorted(out.glob("*/manifest.json")) + sorted(out.glob("*/history/*/manifest.json")):
        m = json.loads(manifest.read_text())
        h = m.get("headline") or {}
        with currency(m.get("settings", {}).get("currency")):  # each run in its own currency
            forecast = (
                f"{money(h['forecast_p50'])} ({money(h['forecast_p10'])} to {money(h['forecast_p90'])})" if "forecast_p50" in h else "—"
            )
            target = f"{money(h['bookings_target'])}: {chance(h['p_reach'])}" if "p_reach" in h else "no target"
        plan = f"{share(h['p_hat'])} (aim {share(h['attainment_share'])})" if "p_hat" in h else "—"
        link = manifest.parent.relative_to(out).as_posix()
        rows.append(
            (
                m["period"],
                m.get("finished", ""),
                m.get("as_of", ""),
                forecast,
                target,
                plan,
                m["status"],
                link,
                "latest" if manifest.parent.parent == out else "earlier run",
            )
        )
    for failed in sorted(out.glob("*/failed/*")):
        rows.append((failed.parent.parent.name, failed.name, "", "—", "—", "—", "failed", failed.relative_to(out).as_posix(), "failed"))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    body = "\n".join(
        f"<tr><td>{escape(p)}</td><td>{escape(as_of)}</td><td>{escape(f)}</td><td>{escape(t)}</td><td>{escape(pl)}</td>"
        f"<td class='{status}'>{status}</td><td>{kind}</td><td>{escape(when)}</td>"
        f"<td><a href='{link}/{'50-summarise-for-leadership.html' if status != 'failed' else ''}'>{escape(link)}</a></td></tr>"
        for p, when, as_of, f, t, pl, status, link, kind in rows
    )
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        "<title>Quotacast runs</title><style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse}td,th{padding:4px 12px;text-align:left;border-bottom:1px solid #ddd}"
        ".failed{color:#b00}.complete{color:#070}</style></head><body><h1>Quotacast runs</h1>"
        "<p>Latest first. Forecast: the company's median bookings for the planned quarter (80 % range); target: the chance "
        "of reaching it; plan: the share of reps expected to reach quota (and the share the plan aims for).</p>"
        "<table><tr><th>period</th><th>data as of</th><th>forecast</th><th>target: chance</th><th>plan</th><th>status</th><th></th>"
        f"<th>finished</th><th>folder</th></tr>{body}</table></body></html>\n"
    )
    path = out / "index.html"
    path.write_text(html)
    return path


def schedule_lines(
    data: str, out: str, day: int = 20, hour: int = 6, fiscal_year_start: int = 1, mapping: str | None = None, log_file: str | None = None
) -> dict[str, str]:
    """A crontab line and a systemd service + timer that run next quarter's plan on ``day`` of the last
    month of each fiscal quarter, logging to a file."""
    months = sorted({(fiscal_year_start - 2 + 3 * k) % 12 + 1 for k in range(1, 5)})
    exe = shutil.which("quotacast") or f"{sys.executable} -m analysis"
    log_file = log_file or str(Path(out).resolve() / "quotacast.log")
    cmd = f"{exe} run --data {data} --period next --out {Path(out).resolve()}" + (f" --mapping {mapping}" if mapping else "")
    month_list = ",".join(str(m) for m in months)
    cron = f"0 {hour} {day} {month_list} * cd {PROJECT_DIR} && {cmd} >> {log_file} 2>&1"
    service = (
        "[Unit]\nDescription=Quotacast: next quarter's quota plan\n\n[Service]\nType=oneshot\n"
        f"WorkingDirectory={PROJECT_DIR}\nEnvironmentFile=-%h/.config/quotacast.env\nExecStart={cmd}\n"
        f"StandardOutput=append:{log_file}\nStandardError=append:{log_file}\n"
    )
    timer = (
        "[Unit]\nDescription=Run Quotacast before each fiscal quarter\n\n[Timer]\n"
        f"OnCalendar=*-{month_list}-{day:02d} {hour:02d}:00:00\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n"
    )
    return {"crontab": cron, "service": service, "timer": timer}
