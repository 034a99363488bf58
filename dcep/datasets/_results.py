"""What a replay gives back: the ledger, the id map both ways, the top-ups, the refusals.

Kept apart from the replay itself so that a result can be read (and its id
map written or read back as CSV) without the machinery that made it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final, final

import attrs

from dcep.errors import InvalidFieldError, Reason
from dcep.ledger import Ledger
from dcep.parties import Bank, CentralBank, Wallet
from dcep.values import (
    Address,
    Amount,
)

__all__ = [
    "FUNDING_COLUMNS",
    "ID_MAP_COLUMNS",
    "POOL_ACCOUNT",
    "Funding",
    "ReplayResult",
    "read_id_map",
]

#: The columns of :meth:`ReplayResult.id_map_rows` and of the file
#: :meth:`ReplayResult.write_id_map` writes.
ID_MAP_COLUMNS: Final = ("external_id", "address")
#: The columns of :meth:`ReplayResult.funding_rows`.
FUNDING_COLUMNS: Final = ("row", "external_id", "address", "amount_fen", "entry")
#: The deposit account, at each replay bank, that every top-up is paid from.
POOL_ACCOUNT: Final = "REPLAY-POOL"


@final
@attrs.frozen
class Funding:
    """A top-up the replay made so that a wallet could pay: not a transfer of the data set.

    ``row`` is the data set's row whose payment needed it, ``entry`` the
    journal entry of the funding instruction (from the bank's
    :data:`POOL_ACCOUNT`, at the time of that row).
    """

    row: int
    external_id: str
    address: Address
    amount: Amount
    entry: int


@final
@attrs.frozen(eq=False)
class ReplayResult:
    """What :func:`replay_transfers` did: the ledger, who is who, and what became of each row.

    Rows are numbered from 0 in the order they were given (a DataFrame's
    positions, a CSV file's data lines), whatever order they were replayed in.

    * ``wallets``, ``addresses`` and ``external_ids`` map the data set's
      account ids to wallets and addresses and back, in the order the
      wallets were opened.
    * ``entries`` maps each accepted row to the journal entry of its transfer;
      ``refused`` maps each other row to the :class:`~dcep.Reason` it was
      refused for (see :meth:`refused_by_reason`).
    * ``fundings`` are the top-ups, in journal order.
    * ``time_offset_us`` was added to every row's time (0 unless the
      ledger's clock was already past the first row).
    """

    ledger: Ledger
    central_bank: CentralBank
    banks: tuple[Bank, ...]
    wallets: Mapping[str, Wallet]
    addresses: Mapping[str, Address]
    external_ids: Mapping[Address, str]
    entries: Mapping[int, int]
    refused: Mapping[int, Reason]
    fundings: tuple[Funding, ...]
    time_offset_us: int
    rows: int

    @property
    def accepted(self) -> int:
        """How many rows became transfers on the ledger."""
        return len(self.entries)

    def refused_by_reason(self) -> dict[Reason, int]:
        """How many rows were refused, for each reason; most frequent first."""
        counts: dict[Reason, int] = {}
        for reason in self.refused.values():
            counts[reason] = counts.get(reason, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0].value)))

    def id_map_rows(self) -> list[dict[str, str]]:
        """``[{"external_id": ..., "address": "dcep1..."}, ...]``, in the order wallets opened."""
        return [
            {"external_id": external_id, "address": str(address)}
            for external_id, address in self.addresses.items()
        ]

    def write_id_map(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`id_map_rows` as a CSV file with a header line; return its path.

        :func:`read_id_map` reads it back.
        """
        target = Path(path)
        with target.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=ID_MAP_COLUMNS)
            writer.writeheader()
            writer.writerows(self.id_map_rows())
        return target

    def funding_rows(self) -> list[dict[str, str | int]]:
        """One row per :class:`Funding`, with the keys of :data:`FUNDING_COLUMNS`."""
        return [
            {
                "row": funding.row,
                "external_id": funding.external_id,
                "address": str(funding.address),
                "amount_fen": funding.amount.fen,
                "entry": funding.entry,
            }
            for funding in self.fundings
        ]


def read_id_map(path: str | os.PathLike[str]) -> dict[str, Address]:
    """Read a file :meth:`ReplayResult.write_id_map` wrote: external id to address.

    Raises ``FIELD_INVALID`` for another header, an address that does not
    parse, or an id given twice.
    """
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        if tuple(reader.fieldnames or ()) != ID_MAP_COLUMNS:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"an id map's header is {','.join(ID_MAP_COLUMNS)}, not {reader.fieldnames}",
                field="header",
            )
        mapping: dict[str, Address] = {}
        for row in reader:
            external_id = row["external_id"]
            if external_id in mapping:
                raise InvalidFieldError(
                    Reason.FIELD_INVALID,
                    f"the id map names {external_id!r} twice",
                    field="external_id",
                )
            mapping[external_id] = Address.parse(row["address"])
        return mapping
