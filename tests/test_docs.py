"""The documentation runs, so it cannot drift from the code.

Every ```python block in README.md and in every Markdown page under docs/
(subfolders included: the whole site) is executed: the blocks of one file
in order, in one fresh namespace and a fresh working directory per file, so
a later block can use names an earlier one defined and no example finds files
left by another run.  Blocks that are not meant to run are fenced as
``text``, ``console`` or ``sh``; any other label is refused, so a block cannot
skip execution by a typo such as ``py``.  The table of reasons in
docs/ledger.md must name every member of ``dcep.Reason`` exactly once, each
with an error class that really is the builtin the table says.
"""

from __future__ import annotations

import builtins
import re
from pathlib import Path
from typing import Final

import attrs
import pytest

import dcep
import dcep.errors

ROOT: Final = Path(__file__).resolve().parent.parent
DOCS: Final = ROOT / "docs"
DOC_FILES: Final = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
LEDGER_GUIDE: Final = DOCS / "ledger.md"

#: Fence labels that may appear; only ``python`` is executed.
KNOWN_LABELS: Final = frozenset({"python", "text", "console", "sh"})

_OPEN: Final = re.compile(r"(?P<indent>[ \t]*)```(?P<label>[^`\s]*)[ \t]*")
_CLOSE: Final = re.compile(r"[ \t]*```[ \t]*")


@attrs.frozen
class SealedBlock:
    """One fenced block: its label, its text and the line its text starts on (from 1)."""

    label: str
    code: str
    first_line: int


def fenced_blocks(text: str, source: str) -> list[SealedBlock]:
    """Every fenced block of ``text``, in order, dedented by its fence's indent.

    Raises ``ValueError`` naming ``source`` and the line of an unclosed fence.
    """
    blocks: list[SealedBlock] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _OPEN.fullmatch(lines[index])
        index += 1
        if opening is None:
            continue
        indent = len(opening["indent"])
        start = index
        while index < len(lines) and _CLOSE.fullmatch(lines[index]) is None:
            index += 1
        if index == len(lines):
            raise ValueError(f"{source}:{start}: fence is never closed")
        body = [line[indent:] if line[:indent].isspace() else line for line in lines[start:index]]
        blocks.append(SealedBlock(opening["label"], "\n".join(body) + "\n", start + 1))
        index += 1
    return blocks


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


#: Pages whose examples run a whole simulation or start a Dask cluster: seconds each.
SLOW_PAGES: Final = {DOCS / "simulate.md", DOCS / "sweep.md"}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(path, marks=pytest.mark.slow) if path in SLOW_PAGES else path
        for path in DOC_FILES
    ],
    ids=_relative,
)
def test_python_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Examples may create files (Ledger.open("city.db")): give each file a fresh directory.
    monkeypatch.chdir(tmp_path)
    blocks = fenced_blocks(path.read_text(encoding="utf-8"), _relative(path))
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    namespace: dict[str, object] = {"__name__": module}
    for block in blocks:
        if block.label != "python":
            continue
        # Pad with newlines so that a traceback points at the line in the Markdown file.
        code = compile("\n" * (block.first_line - 1) + block.code, str(path), "exec")
        exec(code, namespace)


@pytest.mark.parametrize("path", DOC_FILES, ids=_relative)
def test_fences_are_labelled(path: Path) -> None:
    blocks = fenced_blocks(path.read_text(encoding="utf-8"), _relative(path))
    unknown = [
        (block.first_line, block.label) for block in blocks if block.label not in KNOWN_LABELS
    ]
    assert unknown == [], "label these fences python, text, console or sh"


def test_the_guides_have_runnable_examples() -> None:
    for path in (ROOT / "README.md", DOCS / "architecture.md", LEDGER_GUIDE):
        blocks = fenced_blocks(path.read_text(encoding="utf-8"), _relative(path))
        assert any(block.label == "python" for block in blocks), path


def test_the_site_pages_are_collected() -> None:
    # The site's pages live in subfolders too (docs/concepts/, docs/reference/).
    collected = {_relative(path) for path in DOC_FILES}
    assert {"docs/index.md", "docs/getting-started.md", "docs/concepts/invariants.md"} <= collected
    assert all(path.suffix == ".md" for path in DOC_FILES)


def test_fenced_blocks_reads_labels_indents_and_lines() -> None:
    text = "intro\n```python\nx = 1\n```\n* item\n\n  ```text\n  $ raw\n  ```\n"
    assert fenced_blocks(text, "sample") == [
        SealedBlock("python", "x = 1\n", 3),
        SealedBlock("text", "$ raw\n", 8),
    ]


def test_fenced_blocks_refuses_an_unclosed_fence() -> None:
    with pytest.raises(ValueError, match=r"sample:2: fence is never closed"):
        fenced_blocks("text\n```python\nx = 1\n", "sample")


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _unquote(cell: str) -> str:
    return cell.strip("`").removeprefix("dcep.").removeprefix("Reason.")


def reason_table() -> list[list[str]]:
    """The data rows of the table in docs/ledger.md whose first header cell is ``reason``."""
    lines = LEDGER_GUIDE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if line.startswith("|") and _cells(line)[0].strip("`").lower() == "reason":
            rows: list[list[str]] = []
            for row in lines[index + 2 :]:  # skip the header and the |---| line
                if not row.startswith("|"):
                    break
                rows.append(_cells(row))
            return rows
    pytest.fail("docs/ledger.md has no table whose first column is headed 'reason'")


def test_reason_table_lists_every_reason_once() -> None:
    listed = [_unquote(row[0]) for row in reason_table()]
    assert sorted(listed) == sorted(member.name for member in dcep.Reason)
    assert len(listed) == len(set(listed))


def test_reason_table_names_real_error_classes() -> None:
    for row in reason_table():
        error_class: object = getattr(dcep.errors, _unquote(row[1]))
        builtin: object = getattr(builtins, _unquote(row[2]))
        assert isinstance(error_class, type), row
        assert isinstance(builtin, type), row
        assert issubclass(error_class, dcep.DcepError), row
        assert issubclass(error_class, builtin), row
