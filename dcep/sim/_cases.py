"""Ground truth: the laundering typologies a simulation plants, and the record of each case.

A :class:`Case` names its typology, the wallets that took part, the journal
entries it produced and its time window, so that a detector's alerts can be
scored against it.  Labels never enter the journal: they stay with the
simulation, or go to a JSON file of their own (:func:`save_cases`).
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Final, final

import attrs

from dcep.errors import InvalidFieldError, Reason
from dcep.values._crypto import Address

__all__ = ["CASES_FORMAT", "Case", "Typology", "load_cases", "save_cases"]

#: The ``format`` field of a cases file written by :func:`save_cases`.
CASES_FORMAT: Final = "dcep.sim.cases/1"


@final
class Typology(enum.StrEnum):
    """The patterns a simulation can plant (FACTS.md: PBOC lists, AMLSim, IBM AML data)."""

    #: One wallet pays several others amounts just below a reporting threshold.
    STRUCTURING = "structuring"
    #: Many wallets pay one hub within hours; the hub passes most of it to one sink.
    FAN_IN = "fan-in"
    #: One hub, funded by its bank, pays many wallets within hours.
    FAN_OUT = "fan-out"
    #: Money goes round a chain of wallets and back to its origin, each hop later.
    CYCLE = "cycle"
    #: One source pays several intermediates, which all pay one sink.
    SCATTER_GATHER = "scatter-gather"
    #: Many wallets pay one hub, which pays many others.
    GATHER_SCATTER = "gather-scatter"
    #: Large inflows into a nearly empty wallet leave again within minutes.
    PASS_THROUGH = "pass-through"
    #: Many wallets at one bank defund to their deposit accounts within an hour or two.
    BANK_RUN = "bank-run"


@final
@attrs.frozen
class Case:
    """One planted case: what happened, who took part, which entries, and when.

    ``entries`` are journal entry numbers in order (transfers, or defunds for
    a bank run); ``start_us`` and ``end_us`` are the times of the first and
    last of them, both included.  ``members`` are the wallets' addresses in
    the order the case used them (for a cycle, the origin first).
    """

    number: int
    typology: Typology
    members: tuple[Address, ...]
    entries: tuple[int, ...]
    start_us: int
    end_us: int

    def to_dict(self) -> dict[str, object]:
        """Plain data (addresses as ``dcep1...`` text) for JSON."""
        return {
            "number": self.number,
            "typology": self.typology.value,
            "members": [str(member) for member in self.members],
            "entries": list(self.entries),
            "start_us": self.start_us,
            "end_us": self.end_us,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Case:
        """Read what :meth:`to_dict` wrote; ``FIELD_INVALID`` for anything else."""
        try:
            members = data["members"]
            entries = data["entries"]
            number, start, end = data["number"], data["start_us"], data["end_us"]
            if not isinstance(members, list) or not isinstance(entries, list):
                raise TypeError("members and entries are lists")
            if not all(type(value) is int for value in (number, start, end, *entries)):
                raise TypeError("numbers and times are whole numbers")
            return cls(
                number=int(str(number)),
                typology=Typology(str(data["typology"])),
                members=tuple(Address.parse(member) for member in members),
                entries=tuple(int(entry) for entry in entries),
                start_us=int(str(start)),
                end_us=int(str(end)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, f"not a simulated case: {error}", field="case"
            ) from None


def save_cases(path: str | os.PathLike[str], cases: Iterable[Case], *, seed: int) -> None:
    """Write ``cases`` to ``path`` as JSON, beside the database they describe."""
    document = {
        "format": CASES_FORMAT,
        "seed": seed,
        "cases": [case.to_dict() for case in cases],
    }
    Path(path).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def load_cases(path: str | os.PathLike[str]) -> tuple[Case, ...]:
    """Read a file :func:`save_cases` wrote; ``FIELD_INVALID`` if it is not one."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, f"{path} is not a cases file: {error}", field="path"
        ) from None
    if not isinstance(document, dict) or document.get("format") != CASES_FORMAT:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, f"{path} is not a {CASES_FORMAT} file", field="path"
        )
    cases = document.get("cases")
    if not isinstance(cases, list) or not all(isinstance(case, dict) for case in cases):
        raise InvalidFieldError(Reason.FIELD_INVALID, f"{path} has no list of cases", field="path")
    return tuple(Case.from_dict(case) for case in cases)
