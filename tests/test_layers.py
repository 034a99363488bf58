"""The layers contract holds, and it would catch an import that runs upward.

``pyproject.toml`` declares the layers to import-linter; ``.ci/run`` runs
``lint-imports``.  These tests run the same contract here, and once more on
a copy of the package with one upward import planted, to show that the
contract can fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dcep

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(package_parent: Path, config: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=package_parent,
        env=environment,
        timeout=120,
        check=False,
    )


def test_the_tree_keeps_the_layers() -> None:
    result = _lint(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("core/_records.py", "dcep.journal._store"),  # the ledger reaching for its journal
        ("journal/_journal.py", "dcep.ledger._ledger"),  # the old cycle, back
        ("values/_money.py", "dcep.instructions._kinds"),
    ],
)
def test_an_upward_import_breaks_the_contract(tmp_path: Path, module: str, upward: str) -> None:
    copy = tmp_path / "dcep"
    shutil.copytree(Path(dcep.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    planted = copy / module
    planted.write_text(planted.read_text(encoding="utf-8") + f"\nimport {upward}\n", "utf-8")
    result = _lint(tmp_path, tmp_path / "pyproject.toml")
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert upward in result.stdout
