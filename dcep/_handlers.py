"""What each kind of instruction checks and does to the ledger's state.

One handler per kind, registered in :data:`HANDLERS`.  Every handler follows
the same discipline: *all* checks first, then mutations that cannot fail, so
a refused instruction leaves the state exactly as it was.  A handler returns
the postings it made, which become part of the receipt and the journal.

These are the stateful checks (roles, balances, limits); the stateless ones
(encoding, amounts, signature) happened before, in :mod:`dcep._encoding`
and :meth:`dcep.Ledger.submit`.  Shared checks live in :mod:`dcep._checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from dcep._crypto import VerifyKey
from dcep._handlers_money import defund, fund, issue, pay_in, redeem, transfer
from dcep._handlers_parties import appoint_regulator, authorise_bank, genesis, open_wallet
from dcep._handlers_supervision import disclosure, freeze, unfreeze, warrant
from dcep._instructions import Kind
from dcep._policy import Policy
from dcep._records import Posting
from dcep._state import LedgerState

__all__ = ["HANDLERS", "Handler"]

#: A handler: (state, policy, instruction, signer, now_us) -> postings.
Handler = Callable[[LedgerState, Policy, Any, VerifyKey, int], tuple[Posting, ...]]


#: The closed table of handlers; the ledger refuses a kind it has no handler for.
HANDLERS: Final[dict[Kind, Handler]] = {
    Kind.GENESIS: genesis,
    Kind.AUTHORISE_BANK: authorise_bank,
    Kind.ISSUE: issue,
    Kind.REDEEM: redeem,
    Kind.PAY_IN: pay_in,
    Kind.OPEN_WALLET: open_wallet,
    Kind.FUND: fund,
    Kind.DEFUND: defund,
    Kind.TRANSFER: transfer,
    Kind.APPOINT_REGULATOR: appoint_regulator,
    Kind.FREEZE: freeze,
    Kind.UNFREEZE: unfreeze,
    Kind.WARRANT: warrant,
    Kind.DISCLOSURE: disclosure,
}
