"""The two dependency lists agree, the entry points work, the bundled demo data is what `make demo-data` writes."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

from helpers import ROOT


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for spec in project["dependencies"] + project["optional-dependencies"]["test"]:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][0-9A-Za-z.]*)", spec).groups()
        pins[name.lower()] = version
    return pins


def _conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for spec in env["dependencies"]:
        if isinstance(spec, str) and "=" in spec:
            name, version = spec.split("=", 1)
            if name != "python":
                pins[name.lower()] = version
    return pins


def test_every_dependency_is_pinned_exactly_and_environment_yml_agrees():
    pyproject, conda = _pyproject_pins(), _conda_pins()
    assert pyproject == conda
    for required in [
        "jupyterlab",
        "pandas",
        "numpy",
        "scipy",
        "scikit-learn",
        "statsmodels",
        "seaborn",
        "matplotlib",
        "papermill",
        "nbconvert",
        "ipykernel",
        "pandera",
        "pyarrow",
        "openpyxl",
        "sqlalchemy",
        "pytest",
        "hypothesis",
    ]:
        assert required in pyproject, required


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    for name, pinned in _pyproject_pins().items():
        assert version(name) == pinned, name


def test_console_script_and_module_entry_points():
    out = subprocess.run([sys.executable, "-m", "analysis", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("quotacast ")
    exe = ROOT / ".venv" / "bin" / "quotacast"
    if exe.exists():
        out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
        assert "validate" in out.stdout and "demo-data" in out.stdout


def test_ci_calls_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make report" in readme and "make test" in readme


def test_importing_the_package_has_no_side_effects():
    code = "import logging, analysis; import sys; sys.exit(len(logging.getLogger().handlers))"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
