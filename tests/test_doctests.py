"""Every example in a docstring runs, so the documentation cannot drift."""

import doctest
import importlib
import pkgutil

import pytest

import dcep

MODULES = sorted(
    name
    for info in pkgutil.iter_modules(dcep.__path__)
    if (name := f"dcep.{info.name}") != "dcep.__main__"
)


@pytest.mark.parametrize("name", ["dcep", *MODULES])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_walkthrough_has_examples() -> None:
    assert doctest.testmod(dcep).attempted >= 10
