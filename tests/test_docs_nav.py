"""The site's nav: every page it names is built or the strict build fails.

``docs/hooks.py`` only fills the Notebooks section; it used to drop nav
entries whose page was missing, which let a deleted page vanish silently.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

pytest.importorskip("mkdocs")

ROOT = Path(__file__).resolve().parent.parent


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dcep_docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pages(items: Any) -> Iterator[str]:
    if isinstance(items, str):
        yield items
    elif isinstance(items, list):
        for item in items:
            yield from _pages(item)
    elif isinstance(items, dict):
        for value in items.values():
            yield from _pages(value)


def test_every_page_the_nav_names_exists() -> None:
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    named = list(_pages(nav))
    assert len(named) > 20
    assert [page for page in named if not (ROOT / "docs" / page).is_file()] == []


def test_a_missing_page_stays_in_the_nav_for_the_strict_build_to_refuse() -> None:
    nav = [{"Guides": ["ledger.md", {"Gone": "no-such-page.md"}]}, {"Notebooks": []}]
    filled = _hooks()._with_notebooks(nav, ["examples/01.ipynb"])
    assert filled == [
        {"Guides": ["ledger.md", {"Gone": "no-such-page.md"}]},
        {"Notebooks": ["examples/01.ipynb"]},
    ]


def test_the_notebooks_section_goes_when_there_are_none() -> None:
    assert _hooks()._with_notebooks([{"Notebooks": []}, "index.md"], []) == ["index.md"]
