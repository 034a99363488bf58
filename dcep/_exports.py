"""How a public module claims the names it re-exports from its private modules.

Tracebacks, reprs and the API reference name a class by its ``__module__``:
after :func:`claim`, ``dcep.errors.UnknownPartyError`` and
``dcep.journal.SealedBlock`` show where users import them from, not the
private module they happen to be written in.  Pickling follows the same
name, so worker processes find every claimed object through its public
module.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

__all__ = ["claim"]


def claim(
    public_module: str, namespace: MutableMapping[str, object], names: Iterable[str]
) -> None:
    """Give each of ``names`` defined below ``public_module`` that module as its home."""
    private_prefix = public_module + "._"
    for name in names:
        value = namespace[name]
        home = getattr(value, "__module__", None)
        if isinstance(home, str) and home.startswith(private_prefix):
            value.__module__ = public_module
