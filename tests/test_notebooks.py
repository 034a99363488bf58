"""The example notebooks are committed clean and keep their promises.

CI runs every ``examples/*.ipynb`` top to bottom with nbmake
(``python -m pytest --nbmake examples/*.ipynb``); this test does not execute
them.  It reads each file as JSON and checks what a reader relies on before
running anything: the outputs are stripped (no outputs, no execution counts,
so diffs show code and prose only), the first cell is a markdown title that
asks the notebook's one question, at least one code cell draws a chart, and
the last code cell asserts the key numbers, so that a notebook which silently
computes nonsense fails under nbmake.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parent.parent
NOTEBOOKS: Final = sorted((ROOT / "examples").glob("*.ipynb"))

#: A call that draws: matplotlib (``plt.bar``, ``ax.plot(``) or networkx (``nx.draw``).
_PLOTTING: Final = re.compile(r"\bplt\.\w+\(|\.plot\(|\bnx\.draw\w*\(")
_ASSERT: Final = re.compile(r"^\s*assert\b", re.MULTILINE)


def _cells(path: Path) -> list[dict[str, object]]:
    """The cells of the notebook at ``path``, checked to be nbformat 4 JSON."""
    document = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path.name}: not a JSON object"
    assert document.get("nbformat") == 4, f"{path.name}: not nbformat 4"
    cells = document.get("cells")
    assert isinstance(cells, list), f"{path.name}: no list of cells"
    assert cells, f"{path.name}: no cells"
    assert all(isinstance(cell, dict) for cell in cells), f"{path.name}: a cell is not an object"
    return cells


def _source(cell: dict[str, object]) -> str:
    """A cell's source as one string (nbformat stores a string or a list of lines)."""
    source = cell.get("source", "")
    if isinstance(source, list):
        assert all(isinstance(line, str) for line in source)
        return "".join(source)
    assert isinstance(source, str)
    return source


def _code_cells(path: Path) -> list[dict[str, object]]:
    return [cell for cell in _cells(path) if cell.get("cell_type") == "code"]


def test_there_are_example_notebooks() -> None:
    assert NOTEBOOKS, "examples/ holds no notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_outputs_are_stripped(path: Path) -> None:
    for number, cell in enumerate(_cells(path)):
        if cell.get("cell_type") != "code":
            assert "outputs" not in cell, f"{path.name} cell {number}: outputs on a text cell"
            continue
        assert cell.get("outputs") == [], f"{path.name} cell {number}: outputs not stripped"
        assert cell.get("execution_count") is None, (
            f"{path.name} cell {number}: execution count not stripped"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_the_first_cell_asks_one_question(path: Path) -> None:
    first = _cells(path)[0]
    assert first.get("cell_type") == "markdown", f"{path.name}: the first cell is not markdown"
    title = _source(first).lstrip().splitlines()[0]
    assert title.startswith("# "), f"{path.name}: the first cell does not open with a title"
    assert title.rstrip().endswith("?"), f"{path.name}: the title is not a question: {title!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_a_code_cell_draws_a_chart(path: Path) -> None:
    assert any(_PLOTTING.search(_source(cell)) for cell in _code_cells(path)), (
        f"{path.name}: no plotting call (plt., .plot( or nx.draw)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_the_last_code_cell_asserts(path: Path) -> None:
    code = _code_cells(path)
    assert code, f"{path.name}: no code cells"
    assert _ASSERT.search(_source(code[-1])), f"{path.name}: the last code cell asserts nothing"
