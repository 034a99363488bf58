"""What the regulator's view records of parties and money: pseudonyms, classes and flows.

Every record here is what the registration centre may see without a
warrant: an address (a pseudonym), a wallet's category and operator, a
bank's public institution code, and each movement of e-CNY as a
:class:`FundsFlow`.  None has a field for who anybody is.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Container
from typing import Final, final

import attrs

from dcep.core._records import AccountKind, Posting
from dcep.errors import JournalError, Reason
from dcep.instructions._kinds import InstructionKind
from dcep.values._codes import InstitutionCode
from dcep.values._crypto import Address
from dcep.values._policy import WalletCategory

__all__ = ["BankProfile", "FundsFlow", "PartyRole", "WalletProfile", "flow_of"]

#: Posting kinds that hold e-CNY; the rest (reserves, deposits, cash) are outside its supply.
_ECNY_ACCOUNTS: Final = frozenset({AccountKind.VAULT, AccountKind.WALLET})


@enum.unique
class PartyRole(enum.StrEnum):
    """What an address is on the ledger, as far as the journal says."""

    CENTRAL_BANK = "central_bank"
    BANK = "bank"
    WALLET = "wallet"
    REGULATOR = "regulator"
    UNKNOWN = "unknown"


@final
@attrs.frozen
class FundsFlow:
    """One movement of e-CNY from one holder to another, read from one entry.

    ``kind`` is the instruction's: ``TRANSFER`` (wallet to wallet), ``FUND``
    (bank vault to wallet: money enters circulation from a deposit or cash),
    ``DEFUND`` (wallet to bank: money leaves for a deposit), ``ISSUE``
    (central bank to vault) and ``REDEEM`` (vault to central bank).  ``bank``
    is the bank on one side, where there is one; ``cash`` marks a funding
    paid in cash at the counter.

    A payment under the waterfall (issue 24) is one flow of the whole
    amount from payer to payee: ``topped_up_fen`` of it came into the
    payer's wallet from its linked deposit first, and ``swept_fen`` of it
    went on from the payee's wallet to its linked deposit.  Those two are
    the holders' own fundings and defunds, made in the same entry: the view
    counts them in the wallets' balances, against their banks' vaults.
    """

    entry_number: int
    time_us: int
    kind: InstructionKind
    payer: Address
    payee: Address
    amount_fen: int
    bank: Address | None = None
    cash: bool = False
    topped_up_fen: int = 0
    swept_fen: int = 0


@final
@attrs.frozen
class WalletProfile:
    """A wallet as the regulator sees it without a warrant: a pseudonym and its class.

    ``parent`` is the wallet that opened it as a sub-wallet (``None`` for a
    wallet the bank opened): the link is a fact of the ledger, the holder of
    either is not.  A sub-wallet has its parent's category and operator.
    """

    address: Address
    category: WalletCategory
    operator: Address
    opened_entry: int
    opened_at_us: int
    parent: Address | None = None
    #: Owned by a business (opened by ``OpenCorporateWallet``), a fact of the ledger.
    corporate: bool = False


@final
@attrs.frozen
class BankProfile:
    """An authorised operator: its address and public institution code."""

    address: Address
    code: InstitutionCode
    authorised_entry: int
    authorised_at_us: int


def flow_of(
    number: int,
    time_us: int,
    kind: InstructionKind,
    postings: tuple[Posting, ...],
    central_bank: Address | None,
    banks: Container[Address],
    canonical: Callable[[Address], Address],
) -> FundsFlow | None:
    """The e-CNY an entry's postings move, as one flow; ``None`` if they move none.

    Money leaving or entering the supply (issuance, redemption) has the
    central bank on the other side.  Payer and payee are passed through
    ``canonical``, so that a reader can share one object per address.
    Raises ``JOURNAL_REPLAY_DIVERGED`` for postings that do not read as one
    amount from one holder to another.
    """
    moves = [p for p in postings if p.kind in _ECNY_ACCOUNTS]
    if not moves:
        return None
    topped_up_fen = swept_fen = 0
    if kind is InstructionKind.TRANSFER and len(moves) > 2:
        # The waterfall's legs: vault to payer first, payee to vault last.
        if moves[0].kind is AccountKind.VAULT and moves[0].delta_fen < 0:
            topped_up_fen = moves[1].delta_fen
            moves = moves[2:]
        if len(moves) > 2 and moves[-1].kind is AccountKind.VAULT and moves[-1].delta_fen > 0:
            swept_fen = moves[-1].delta_fen
            moves = moves[:-2]
    debits = [p for p in moves if p.delta_fen < 0]
    credits = [p for p in moves if p.delta_fen > 0]
    amounts = {-p.delta_fen for p in debits} | {p.delta_fen for p in credits}
    if len(debits) > 1 or len(credits) > 1 or len(amounts) != 1 or central_bank is None:
        raise JournalError(
            Reason.JOURNAL_REPLAY_DIVERGED,
            "entry moves e-CNY in a shape the regulator view cannot read",
            entry=number,
        )
    payer = canonical(debits[0].owner if debits else central_bank)
    payee = canonical(credits[0].owner if credits else central_bank)
    bank = payer if payer in banks else payee if payee in banks else None
    cash = kind is InstructionKind.FUND and any(p.kind is AccountKind.CASH for p in postings)
    return FundsFlow(
        number, time_us, kind, payer, payee, amounts.pop(), bank, cash, topped_up_fen, swept_fen
    )
