"""The package's shape: who imports whom, with no cycle and no import hidden inside a function, and every module
opening with a sentence on what it holds (docs/architecture.md draws the same graph)."""

from __future__ import annotations

import ast

from helpers import ROOT

PACKAGE = ROOT / "src" / "analysis"


def _imports() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per module: the package modules it imports at its top, and those it imports inside a function or class."""
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    top: dict[str, set[str]] = {}
    inner: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        name = path.stem
        top[name], inner[name] = set(), set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found = set()
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "analysis":
                parts = node.module.split(".")
                found = {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
            elif isinstance(node, ast.Import):
                found = {a.name.split(".")[1] for a in node.names if a.name.startswith("analysis.")}
            found = {m for m in found if m in modules and m != name}
            if found:
                (top if node.col_offset == 0 else inner)[name] |= found
    return top, inner


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_the_package_modules():
    top, inner = _imports()
    graph = {m: top[m] | inner[m] for m in top}
    assert _cycles(graph) == []


def test_no_package_import_hidden_inside_a_function():
    _, inner = _imports()
    assert {m: sorted(v) for m, v in inner.items() if v} == {}


def test_every_module_opens_with_what_it_holds():
    for path in PACKAGE.glob("*.py"):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 4, f"{path.name} has no opening sentence"


def test_the_architecture_page_names_every_module():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__") and f"`{p.stem}`" not in page]
    assert missing == []


def test_methods_are_explained_in_the_repo_and_every_citation_resolves():
    """A clone has no ../shared: docs and code cite docs/methods.md, and every § and check they cite exists there."""
    import re

    methods = (ROOT / "docs" / "methods.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^###? (\d+(?:\.\d+)?)\.? ", methods, flags=re.M))
    checks = set(re.findall(r"^(\d+)\. \*\*", methods, flags=re.M))
    texts = [p for d in ("src", "tests", "docs", "notebooks") for p in (ROOT / d).rglob("*") if p.suffix in {".py", ".md"}]
    for path in [*texts, ROOT / "README.md"]:
        if path.name == "test_architecture.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "METHODS" not in text, path.name
        if path.parent.name in {"docs", "analysis"}:  # what a user's clone reads: nothing outside the repo
            assert "../shared" not in text, path.name
        for cited in re.findall(r"docs/methods\.md[^\n]*", text):
            for s in re.findall(r"§(\d+(?:\.\d+)?)", cited):
                assert s in sections, f"{path.name} cites §{s}, which docs/methods.md does not have"
            for c in re.findall(r"checks? (\d+)", cited):
                assert c in checks, f"{path.name} cites check {c}"
