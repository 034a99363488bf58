"""The ``slow`` marker stays on the tests that need it.

``python -bb -m pytest -m "not slow"`` is the fast loop for developers; it
is only fast while the crash tests, the truncation sweep and the full
stateful runs carry the marker.  A marker that falls off (a module's
``pytestmark`` rewritten, a state machine's ``TestCase`` bound afresh) would
not fail anything else, so this test collects ``-m slow`` in a subprocess and
looks for them there.  The crash tests and the state machines are found by
reading the test modules, so that new ones are covered too; only the modules
concerned are collected, to keep this test itself quick.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent


def _collect(marker_expression: str, modules: list[Path]) -> set[str]:
    """The ids of the tests in ``modules`` that ``-m marker_expression`` selects.

    Parameters are dropped from the ids: ``test_x[1]`` counts as ``test_x``.
    """
    completed = subprocess.run(
        [
            sys.executable,
            "-bb",
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            marker_expression,
            *(str(module.relative_to(ROOT)) for module in modules),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return {line.partition("[")[0] for line in completed.stdout.splitlines() if "::" in line}


def _test_functions(module: Path) -> list[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]


def _state_machine_test_cases(module: Path) -> list[str]:
    """Module-level names bound to ``SomeMachine.TestCase`` (marked or not)."""
    names = []
    for node in ast.parse(module.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(child, ast.Attribute) and child.attr == "TestCase"
            for child in ast.walk(node.value)
        ):
            names += [target.id for target in node.targets if isinstance(target, ast.Name)]
    return names


def _state_machine_modules() -> list[Path]:
    return [
        module
        for module in sorted(TESTS.glob("test_*.py"))
        if "RuleBasedStateMachine" in module.read_text(encoding="utf-8")
    ]


@pytest.fixture(scope="module")
def slow() -> set[str]:
    modules = {
        TESTS / "test_crash.py",
        TESTS / "test_journal_faults.py",
        *_state_machine_modules(),
        # Quick modules, to check that the marker is not on everything.
        TESTS / "test_markers.py",
        TESTS / "test_money.py",
    }
    return _collect("slow", sorted(modules))


def test_the_crash_tests_are_slow(slow: set[str]) -> None:
    names = _test_functions(TESTS / "test_crash.py")
    assert names
    assert {f"tests/test_crash.py::{name}" for name in names} <= slow


def test_every_state_machine_is_slow(slow: set[str]) -> None:
    expected = {
        f"tests/{module.name}::{name}::runTest"
        for module in _state_machine_modules()
        for name in _state_machine_test_cases(module)
    }
    assert "tests/test_ledger_stateful.py::TestLedger::runTest" in expected
    assert expected <= slow


def test_the_sweeps_are_slow(slow: set[str]) -> None:
    assert {
        "tests/test_journal_faults.py::test_every_truncation_point_is_refused_or_keeps_a_valid_prefix",
        "tests/test_journal_faults.py::test_one_flipped_bit_in_a_snapshot_value_is_detected",
        "tests/test_journal_faults.py::test_one_flipped_bit_in_an_entry_or_block_is_detected_and_named",
    } <= slow


def test_the_fast_loop_keeps_the_quick_tests(slow: set[str]) -> None:
    # Only a few modules' worth is slow: the marker is not on everything.
    assert not any(node.startswith("tests/test_markers.py::") for node in slow)
    assert not any(node.startswith("tests/test_money.py::") for node in slow)
    assert (
        "tests/test_ledger_stateful.py::test_the_same_seeded_operations_give_the_same_entries"
        not in slow
    )
