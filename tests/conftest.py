"""Shared fixtures: a small seeded demo company (clean and dirty) and the real datasets in ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import demo
from helpers import AS_OF


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
