"""Guards on the public API, in the manner of trio's ``_tests/test_exports.py``.

Everything public is re-exported from ``dcep/__init__.py`` with an explicit
``__all__``; the modules behind it are private.  These tests make sure the
two agree, that static tools see every runtime name, that public records are
``@final``, and that importing dcep stays cheap.
"""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Protocol

import pytest

import dcep
from dcep._instructions import KIND_RECORDS

PUBLIC_NAMES = sorted(dcep.__all__)
PRIVATE_MODULE_NAMES = sorted(
    f"dcep.{info.name}"
    for info in pkgutil.iter_modules(dcep.__path__)
    # ``__main__`` runs the command line when imported.
    if info.name.startswith("_") and info.name != "__main__"
)
#: Public classes meant to be subclassed, and why.
OPEN_CLASSES: dict[type, str] = {
    dcep.Instruction: "the base of the closed set of kinds; every kind itself is final",
}


def _public_object(name: str) -> object:
    value: object = getattr(dcep, name)
    return value


def _namespace_names() -> set[str]:
    return {
        name
        for name, value in vars(dcep).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }


def test_all_has_no_duplicates() -> None:
    assert len(dcep.__all__) == len(set(dcep.__all__))
    assert all(isinstance(name, str) for name in dcep.__all__)


def test_all_matches_the_public_namespace() -> None:
    assert set(dcep.__all__) == _namespace_names()


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from dcep import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(dcep.__all__)


def test_no_public_name_is_a_module() -> None:
    modules = [name for name in PUBLIC_NAMES if isinstance(_public_object(name), types.ModuleType)]
    assert modules == []


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_every_public_name_imports_and_is_documented(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from dcep import {name}", namespace)
    value = namespace[name]
    assert value is _public_object(name)
    if isinstance(value, type):
        # The class's own docstring, not one inherited from a base.
        doc = vars(value).get("__doc__")
        assert isinstance(doc, str)
        assert doc.strip()
    elif callable(value):
        assert inspect.getdoc(value)
    else:
        # A constant has no docstring of its own: its defining module must name it
        # in some docstring, or introduce it with a ``#:`` comment.
        owner = _defining_module(name)
        source = inspect.getsource(owner)
        documented = [
            doc
            for doc in [
                owner.__doc__,
                *(getattr(v, "__doc__", None) for v in vars(owner).values()),
            ]
            if isinstance(doc, str) and name in doc
        ]
        assert documented or "#: " in _line_before_assignment(source, name), name


def _defining_module(name: str) -> types.ModuleType:
    """The private module whose ``__all__`` lists ``name``."""
    owners = [
        importlib.import_module(module_name)
        for module_name in PRIVATE_MODULE_NAMES
        if name in getattr(importlib.import_module(module_name), "__all__", ())
    ]
    assert len(owners) >= 1, f"{name} is in no private module's __all__"
    return owners[0]


def _line_before_assignment(source: str, name: str) -> str:
    lines = source.splitlines()
    for number, line in enumerate(lines):
        if line.startswith((f"{name}:", f"{name} =")) and number > 0:
            return lines[number - 1]
    return ""


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_public_classes_and_functions_live_in_dcep(name: str) -> None:
    value = _public_object(name)
    if isinstance(value, type) or inspect.isfunction(value):
        module = value.__module__
        assert module == "dcep" or module.startswith("dcep."), module
        # And the private module it lives in lists it in its own __all__.
        assert name in importlib.import_module(module).__all__


def test_every_public_name_is_defined_in_a_private_module() -> None:
    exported = {
        name
        for module_name in PRIVATE_MODULE_NAMES
        for name in importlib.import_module(module_name).__all__
    }
    assert set(dcep.__all__) <= exported


def test_static_tools_see_every_runtime_name() -> None:
    # ``no_implicit_reexport`` hides ``from m import X`` from mypy; only ``X as X`` re-exports.
    tree = ast.parse(Path(dcep.__file__).read_text(encoding="utf-8"))
    reexported: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                assert alias.asname == alias.name, ast.unparse(node)
                reexported.add(alias.name)
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert set(dcep.__all__) <= reexported | assigned
    assert reexported == set(dcep.__all__)


def _public_classes() -> list[type]:
    classes: list[type] = []
    for name in PUBLIC_NAMES:
        value = _public_object(name)
        if isinstance(value, type):
            classes.append(value)
    return classes


@pytest.mark.parametrize("cls", _public_classes(), ids=lambda cls: cls.__name__)
def test_public_classes_are_final(cls: type) -> None:
    if issubclass(cls, BaseException):
        # As in trio: exceptions form a hierarchy that callers catch by base.
        return
    if Protocol in cls.__bases__:
        # A protocol is satisfied structurally, never by subclassing.
        return
    if issubclass(cls, enum.Enum):
        # An enum with members cannot be subclassed at all.
        assert list(cls)
        with pytest.raises(TypeError):
            types.new_class("Subclass", (cls,))
        return
    if cls in OPEN_CLASSES:
        return
    assert getattr(cls, "__final__", False) is True, f"{cls.__name__} is not @final"


def test_open_classes_are_public_and_their_leaves_final() -> None:
    for cls in OPEN_CLASSES:
        assert cls.__name__ in dcep.__all__
    for record in KIND_RECORDS.values():
        assert record.__name__ in dcep.__all__
        assert getattr(record, "__final__", False) is True, record.__name__


def test_errors_subclass_dcep_error_and_a_builtin() -> None:
    errors = [cls for cls in _public_classes() if issubclass(cls, BaseException)]
    assert dcep.DcepError in errors
    for cls in errors:
        assert issubclass(cls, dcep.DcepError)
        if cls is not dcep.DcepError:
            builtins = [base for base in cls.__mro__ if base.__module__ == "builtins"]
            assert builtins[0] in {ValueError, PermissionError, LookupError, AssertionError}


@pytest.mark.parametrize("module_name", PRIVATE_MODULE_NAMES)
def test_private_modules_define_all(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = vars(module).get("__all__")
    assert isinstance(names, list), f"{module_name} has no __all__ list"
    assert len(names) == len(set(names)), f"{module_name}.__all__ has duplicates"
    for name in names:
        assert isinstance(name, str)
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name}"
        value = getattr(module, name)
        if isinstance(value, type) or inspect.isfunction(value):
            # Listed where it is defined, not where it was imported to.
            assert value.__module__ == module_name, f"{module_name}.{name}"


def test_private_modules_were_found() -> None:
    # Guard against the listing above silently finding nothing.
    assert {"dcep._ledger", "dcep._encoding", "dcep._errors", "dcep._wire"} <= set(
        PRIVATE_MODULE_NAMES
    )


OPTIONAL_EXTRAS = ("tqdm", "networkx", "matplotlib")


def test_import_dcep_does_not_import_optional_extras() -> None:
    script = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import dcep\n"
        f"extras = {OPTIONAL_EXTRAS!r}\n"
        "print(json.dumps({\n"
        "    'extras': sorted(m for m in sys.modules if m.split('.')[0] in extras),\n"
        "    'ledger_loaded': 'dcep._ledger' in sys.modules,\n"
        "    'preloaded': sorted(m for m in before if m.split('.')[0] == 'dcep'),\n"
        "}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(result.stdout)
    assert report["preloaded"] == []
    assert report["ledger_loaded"] is True
    assert report["extras"] == []
