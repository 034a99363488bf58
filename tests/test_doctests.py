"""Every example in a docstring runs, so the documentation cannot drift."""

import doctest
import importlib
import pkgutil

import pytest

import dcep

# Public packages and private modules both: a public package claims the
# objects it re-exports (their ``__module__``), and doctest only collects an
# object's examples from the module it claims to live in.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(dcep.__path__, prefix="dcep.")
    if not info.name.endswith("__main__")
)


@pytest.mark.parametrize("name", ["dcep", *MODULES])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_walkthrough_has_examples() -> None:
    assert doctest.testmod(dcep).attempted >= 10
