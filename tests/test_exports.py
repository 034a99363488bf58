"""Guards on the public API, in the manner of trio's ``_tests/test_exports.py``.

The top of ``dcep`` holds the names a researcher types every day; each
layer's package (``dcep.values``, ``dcep.instructions``, ``dcep.core``,
``dcep.journal``, ``dcep.ledger``, ``dcep.parties``, ``dcep.regulator``,
``dcep.export``, ``dcep.sim``, ``dcep.sweep``, ``dcep.cli``) and ``dcep.errors`` are public
modules with an explicit ``__all__``, re-exporting from private ``_`` modules.  These tests
make sure each public module and its ``__all__`` agree, that static tools see
every runtime name, that public objects name their public module, that
public records are ``@final``, and that importing dcep stays cheap.
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
import traceback
import types
from pathlib import Path
from typing import Protocol

import pytest

import dcep
import dcep.core
import dcep.errors
import dcep.instructions
from dcep.instructions._kinds import KIND_RECORDS

#: The public modules: the package itself, and one per layer and audience.
PUBLIC_MODULE_NAMES = (
    "dcep",
    "dcep.errors",
    "dcep.values",
    "dcep.instructions",
    "dcep.core",
    "dcep.journal",
    "dcep.ledger",
    "dcep.parties",
    "dcep.regulator",
    "dcep.export",
    "dcep.datasets",
    "dcep.sim",
    "dcep.sweep",
    "dcep.cli",
)
PRIVATE_MODULE_NAMES = sorted(
    info.name
    for info in pkgutil.walk_packages(dcep.__path__, prefix="dcep.")
    # ``__main__`` runs the command line when imported.
    if info.name.rsplit(".", 1)[-1].startswith("_") and not info.name.endswith("__main__")
)
#: Public classes meant to be subclassed, and why.
OPEN_CLASSES: dict[type, str] = {
    dcep.instructions.Instruction: "the base of the closed set of kinds; each kind is final",
    dcep.core.LedgerCore: "the state machine that dcep.Ledger adds batches and a journal to",
}
#: The most names the top of ``dcep`` may hold: one screen of everyday names.
TOP_LEVEL_BUDGET = 35


def _module(name: str) -> types.ModuleType:
    return importlib.import_module(name)


def _public_items() -> list[tuple[str, str]]:
    return [(module, name) for module in PUBLIC_MODULE_NAMES for name in _module(module).__all__]


def _ids(item: tuple[str, str]) -> str:
    return f"{item[0]}.{item[1]}"


def _namespace_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }


def test_the_top_level_fits_on_one_screen() -> None:
    assert len(dcep.__all__) <= TOP_LEVEL_BUDGET


@pytest.mark.parametrize("module_name", PUBLIC_MODULE_NAMES)
def test_all_has_no_duplicates_and_matches_the_namespace(module_name: str) -> None:
    module = _module(module_name)
    assert len(module.__all__) == len(set(module.__all__))
    assert all(isinstance(name, str) for name in module.__all__)
    assert set(module.__all__) == _namespace_names(module)


@pytest.mark.parametrize("module_name", PUBLIC_MODULE_NAMES)
def test_star_import_gives_exactly_all(module_name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {module_name} import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(_module(module_name).__all__)


@pytest.mark.parametrize("module_name", PUBLIC_MODULE_NAMES)
def test_public_modules_are_documented(module_name: str) -> None:
    doc = _module(module_name).__doc__
    assert isinstance(doc, str)
    assert doc.strip()


@pytest.mark.parametrize("item", _public_items(), ids=_ids)
def test_every_public_name_imports_and_is_documented(item: tuple[str, str]) -> None:
    module_name, name = item
    namespace: dict[str, object] = {}
    exec(f"from {module_name} import {name}", namespace)
    value = namespace[name]
    assert not isinstance(value, types.ModuleType)
    if isinstance(value, type):
        # The class's own docstring, not one inherited from a base.
        doc = vars(value).get("__doc__")
        assert isinstance(doc, str)
        assert doc.strip()
    elif callable(value):
        assert inspect.getdoc(value)
    else:
        # A constant has no docstring of its own: the module that defines it
        # must name it in a docstring, or introduce it with a ``#:`` comment.
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
        _module(module_name)
        for module_name in PRIVATE_MODULE_NAMES
        if name in getattr(_module(module_name), "__all__", ())
    ]
    assert len(owners) >= 1, f"{name} is in no private module's __all__"
    return owners[0]


def _line_before_assignment(source: str, name: str) -> str:
    lines = source.splitlines()
    for number, line in enumerate(lines):
        if line.startswith((f"{name}:", f"{name} =")) and number > 0:
            return lines[number - 1]
    return ""


@pytest.mark.parametrize("item", _public_items(), ids=_ids)
def test_public_objects_name_a_public_module(item: tuple[str, str]) -> None:
    # Tracebacks, reprs, pickles and the API reference print ``__module__``.
    module_name, name = item
    value = getattr(_module(module_name), name)
    if isinstance(value, type) or inspect.isfunction(value):
        home = value.__module__
        assert home in PUBLIC_MODULE_NAMES, f"{module_name}.{name} shows {home}"
        assert getattr(_module(home), name) is value


def test_a_traceback_names_the_public_module() -> None:
    ledger = dcep.Ledger()
    try:
        ledger.wallet(dcep.Address(bytes(20)))
    except dcep.UnknownPartyError as error:
        shown = "".join(traceback.format_exception_only(type(error), error))
    assert shown.startswith("dcep.errors.UnknownPartyError: ")


def test_default_reprs_name_the_public_module() -> None:
    journal = dcep.Ledger.with_journal().journal
    assert repr(journal).startswith("<dcep.journal.Journal object at ")
    assert repr(dcep.instructions.InstructionKind.TRANSFER) == "<InstructionKind.TRANSFER: 9>"


def test_every_public_name_is_defined_in_a_private_module() -> None:
    exported = {name for module in PRIVATE_MODULE_NAMES for name in _module(module).__all__}
    errors = set(dcep.errors.__all__)
    for module_name in PUBLIC_MODULE_NAMES:
        assert set(_module(module_name).__all__) <= exported | errors, module_name


@pytest.mark.parametrize("module_name", PUBLIC_MODULE_NAMES)
def test_static_tools_see_every_runtime_name(module_name: str) -> None:
    # ``no_implicit_reexport`` hides ``from m import X`` from mypy; only ``X as X`` re-exports.
    module = _module(module_name)
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    reexported: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                if alias.asname is not None and alias.asname.startswith("_"):
                    continue  # a private helper, imported under a private name
                assert alias.asname == alias.name, ast.unparse(node)
                reexported.add(alias.name)
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and not node.name.startswith("_")
    }
    assert set(module.__all__) == reexported | defined


def _public_classes() -> list[type]:
    return sorted(
        {value for m, n in _public_items() if isinstance(value := getattr(_module(m), n), type)},
        key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
    )


@pytest.mark.parametrize("cls", _public_classes(), ids=lambda cls: cls.__name__)
def test_public_classes_are_final(cls: type) -> None:
    if issubclass(cls, BaseException):
        # As in trio: exceptions form a hierarchy that callers catch by base.
        return
    if Protocol in cls.__bases__ or any(Protocol in base.__bases__ for base in cls.__bases__):
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
    public = set(_public_classes())
    for cls in OPEN_CLASSES:
        assert cls in public
    for record in KIND_RECORDS.values():
        assert record.__name__ in dcep.instructions.__all__
        assert getattr(record, "__final__", False) is True, record.__name__


def test_errors_subclass_dcep_error_and_a_builtin() -> None:
    errors = [getattr(dcep.errors, name) for name in dcep.errors.__all__]
    errors = [cls for cls in errors if isinstance(cls, type) and issubclass(cls, BaseException)]
    assert dcep.DcepError in errors
    for cls in errors:
        assert issubclass(cls, dcep.DcepError)
        if cls is not dcep.DcepError:
            builtins = [base for base in cls.__mro__ if base.__module__ == "builtins"]
            assert builtins[0] in {ValueError, PermissionError, LookupError, AssertionError}


def test_every_top_level_error_is_in_dcep_errors() -> None:
    for name in dcep.__all__:
        value = getattr(dcep, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert getattr(dcep.errors, name) is value


@pytest.mark.parametrize("module_name", PRIVATE_MODULE_NAMES)
def test_private_modules_define_all(module_name: str) -> None:
    module = _module(module_name)
    names = vars(module).get("__all__")
    assert isinstance(names, list)
    for name in names:
        assert isinstance(name, str)
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name}"
        value = getattr(module, name)
        if isinstance(value, type) or inspect.isfunction(value):
            # Listed where it is defined (or claimed by its public package).
            home = value.__module__
            assert home == module_name or module_name.startswith(home + "._"), (
                f"{module_name}.{name} lives in {home}"
            )


def test_private_modules_were_found() -> None:
    # Guard against the listing above silently finding nothing.
    assert {
        "dcep.core._machine",
        "dcep.core._batches",
        "dcep.instructions._encoding",
        "dcep.journal._journal",
        "dcep.regulator._view",
    } <= set(PRIVATE_MODULE_NAMES)


#: Names that left the top level, with the public module that holds them now.
MOVED_SAMPLES = [
    ("Kind", "dcep.instructions", "InstructionKind"),
    ("Entry", "dcep.core", "LedgerEntry"),
    ("Block", "dcep.journal", "SealedBlock"),
    ("Flow", "dcep.regulator", "FundsFlow"),
    ("Rule", "dcep.regulator", "AmlRule"),
    ("Direction", "dcep.regulator", "TraceDirection"),
    ("SqliteStore", "dcep.journal", "SqliteStore"),
    ("Transfer", "dcep.instructions", "Transfer"),
]


@pytest.mark.parametrize(("old", "module_name", "new"), MOVED_SAMPLES)
def test_old_top_level_names_still_import_with_a_warning(
    old: str, module_name: str, new: str
) -> None:
    with pytest.warns(DeprecationWarning, match=f"{module_name}.{new}"):
        value = getattr(dcep, old)
    assert value is getattr(_module(module_name), new)


def test_a_name_that_never_existed_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(dcep, "no_such_" + "name")


OPTIONAL_EXTRAS = (
    "tqdm",
    "networkx",
    "matplotlib",
    "pandas",
    "pyarrow",
    "duckdb",
    "dask",
    "distributed",
)


def test_import_dcep_does_not_import_optional_extras() -> None:
    script = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import dcep\n"
        f"extras = {OPTIONAL_EXTRAS!r}\n"
        "print(json.dumps({\n"
        "    'extras': sorted(m for m in sys.modules if m.split('.')[0] in extras),\n"
        "    'ledger_loaded': 'dcep.core._machine' in sys.modules,\n"
        "    'cli_loaded': 'dcep.cli' in sys.modules,\n"
        "    'preloaded': sorted(m for m in before if m.split('.')[0] == 'dcep'),\n"
        "}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(result.stdout)
    assert report["preloaded"] == []
    assert report["ledger_loaded"] is True
    assert report["cli_loaded"] is False
    assert report["extras"] == []
