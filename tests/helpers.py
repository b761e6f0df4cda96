"""What several test files share that is not a fixture: the project's root, where the public datasets live, the
demo's as-of date, and a skip for a dataset that is absent (fixtures stay in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
AS_OF = "2026-11-15"


def shared_dataset(name: str) -> Path:
    """Path to a real public dataset in ../shared/datasets; skips the test where it is absent."""
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"{path} is absent: the real public datasets live beside the project in ../shared (CI has them)")
    return path
