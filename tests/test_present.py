"""The house formats: money in the run's currency everywhere (sentences, tables, chart axes, the plan's warnings), and
dollar signs that stay money on a rendered page."""

from __future__ import annotations

import re

import matplotlib
import nbformat
import pandas as pd
import pytest

from analysis import present, quota, report

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def no_currency():
    present.set_currency("")
    yield
    present.set_currency("")


def test_money_carries_the_currency_set():
    assert (present.money(4_939_255), present.money(-1_234), present.money(950), present.money(None)) == ("4.9M", "-1.2k", "950", "—")
    present.set_currency("€")
    assert (present.money(4_939_255), present.money(-1_234), present.money(950), present.money(float("nan"))) == (
        "€4.9M",
        "-€1.2k",
        "€950",
        "—",
    )
    with present.currency("CHF"):
        assert present.money(2.5e9) == "CHF 2.5bn"
    assert present.money(12) == "€12", "the block gives the currency back"


def test_tables_axes_and_the_plans_sentences_use_it():
    import matplotlib.pyplot as plt

    present.set_currency("€")
    styled = present.table(pd.DataFrame({"target": [5_268_000.0], "chance": [0.37]}), {"target": "money", "chance": "share"})
    html = styled.to_html()
    assert "€5.3M" in html and "37%" in html
    fig, ax = plt.subplots()
    ax.plot([0, 2e6], [0, 1])
    present.axis_money(ax, "x")
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(t.lstrip("-").startswith("€") for t in ticks) and "€1.0M" in ticks
    plt.close(fig)
    assert quota._fmt(793_100, "bookings") == "€793.1k" and quota._fmt(12.5, "won_deals") == "12.5 won deals"


def test_dollars_stay_money_on_a_rendered_page(tmp_path):
    """nbconvert reads ``$…$`` in Markdown as a formula: escaped, the bold around an amount survives and the page shows
    a plain dollar sign (no MathJax is loaded to typeset anything)."""
    present.set_currency("$")
    text = f"**2027Q1 bookings forecast: {present.money(4.9e6)}** (80 % range {present.money(4e6)} to {present.money(6.2e6)})"
    assert present.dollars_escaped(text).count("\\$") == 3 and present.dollars_escaped("\\$5") == "\\$5"
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": present.dollars_escaped(text)})]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "page.ipynb")
    report.render_html(tmp_path / "page.ipynb", tmp_path / "page.html", "page")
    html = (tmp_path / "page.html").read_text()
    assert "<strong>2027Q1 bookings forecast: $4.9M</strong> (80 % range $4.0M to $6.2M)" in html
    assert "mathjax" not in html.lower()


def test_every_money_and_share_axis_reads_in_the_house_format():
    """A sample of the charts whose axes once showed raw numbers: the what-if sweep (target in money, shares), won deal
    sizes on a log axis (money, no labels on minor ticks), a policy replay (shares)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from analysis import plots

    present.set_currency("€")
    sweep = pd.DataFrame(
        [
            {
                "target": t,
                "overassignment": o,
                "expected_share_attaining": 0.9 - t / 4e6,
                "cost_of_sales": 0.1 + o,
                "attainment_share": 0.65,
            }
            for t in (2e6, 2.5e6, 3e6)
            for o in (0.0, 0.1)
        ]
    ).assign(today=lambda d: (d["target"] == 2.5e6) & (d["overassignment"] == 0.1))
    left = plots.what_if_sweep(sweep)
    right = left.figure.axes[1]
    won = pd.DataFrame({"status": "won", "segment": ["SMB"] * 50 + ["Enterprise"] * 50, "amount": np.geomspace(2e3, 4e5, 100)})
    sizes = plots.deal_sizes(won)
    replay = plots.policy_replay(
        pd.DataFrame({"period": ["2026Q1", "2026Q2"], "realised_share": [0.5, 0.7], "method": "equal chance"}), 0.65
    )
    for ax in (left, right, sizes, replay):
        ax.figure.canvas.draw()

    def ticks(axis):
        return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]

    assert ticks(left.xaxis) and all(t.startswith("€") for t in ticks(left.xaxis))
    assert all(t.endswith("%") for ax in (left, right, replay) for t in ticks(ax.yaxis))
    assert ticks(sizes.xaxis) and all(t.startswith("€") for t in ticks(sizes.xaxis))
    assert not [t.get_text() for t in sizes.xaxis.get_minorticklabels() if t.get_text()]
    plt.close("all")


def test_a_heading_is_escaped_and_a_column_without_a_label_reads_as_words():
    styled = present.table(
        pd.DataFrame({"p_hat": [0.4], "cost_of_sales": [0.25], "plain": [1.0]}),
        {"p_hat": "share", "cost_of_sales": "share"},
        {"p_hat": present.Label("Common <chance>", 'the "same" chance & more'), "plain": "Plain words"},
    )
    html = styled.to_html()
    assert 'title="the &quot;same&quot; chance &amp; more">Common &lt;chance&gt;</span>' in html
    assert [re.sub(r"<[^>]+>", "", h) for h in re.findall(r'<th [^>]*class="col_heading[^"]*"[^>]*>(.*?)</th>', html)] == [
        "Common &lt;chance&gt;",
        "Cost of sales",
        "Plain words",
    ]
    assert "qc-defined" not in html.split("Cost of sales")[1], "a heading without a definition carries no tooltip"


def test_a_share_that_rounds_to_nothing_has_no_sign():
    assert (present.share(-0.001), present.share(-0.004, 1), present.share(-0.02), present.share(0.0)) == ("0%", "-0.4%", "-2%", "0%")


def test_a_chart_on_a_rendered_page_has_its_alt_text(tmp_path):
    """present.show keeps the chart in words (its titles and axes) in the output's metadata, and the page's template
    writes it as the image's alt text, escaped; an image without one keeps nbconvert's placeholder."""
    import base64

    import matplotlib.pyplot as plt

    from analysis import plots

    ax = plots.attainment_chances(pd.DataFrame({"p_attain": [0.3, 0.5], "p_attain_budget_per_rep": [0.2, 0.9]}))
    text = present.described(ax.figure)
    assert text == "Chart: Each rep's chance of reaching quota, by method (across: P(attain))"
    plt.close("all")
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": png}, metadata={"image/png": {"alt": 'Chart: "quotas" < forecast'}}),
        nbformat.v4.new_output("display_data", data={"image/png": png}),
    ]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "page.ipynb")
    report.render_html(tmp_path / "page.ipynb", tmp_path / "page.html", "page")
    from html.parser import HTMLParser

    alts = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: alts.append(dict(attrs).get("alt")) if tag == "img" else None
    parser.feed((tmp_path / "page.html").read_text())
    assert alts == ['Chart: "quotas" < forecast', "No description has been provided for this image"]  # nbconvert's own
