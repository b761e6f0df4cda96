"""Shared fixtures: a small seeded demo company (clean and dirty) and the real datasets in ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import demo

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
AS_OF = "2026-11-15"


def shared_dataset(name: str) -> Path:
    """Path to a real public dataset in ../shared/datasets; skips the test where it is absent."""
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"{path} is absent: the real public datasets live beside the project in ../shared (CI has them)")
    return path


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    demo.write(demo.generate(seed=3, reps=12, years=2, as_of=AS_OF), folder)
    return folder


@pytest.fixture(scope="session")
def dirty_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dirty")
    demo.write(demo.generate(seed=3, reps=12, years=2, as_of=AS_OF, dirty=True), folder)
    return folder
