"""What each kind of instruction checks and does to the ledger's state.

One handler per kind, registered in :data:`HANDLERS`.  Every handler follows
the same discipline: *all* checks first, then mutations that cannot fail, so
a refused instruction leaves the state exactly as it was.  A handler returns
the postings it made, which become part of the receipt and the journal.

These are the stateful checks (roles, balances, limits); the stateless ones
(encoding, amounts, signature) happened before, in :mod:`dcep.instructions._encoding`
and :meth:`dcep.Ledger.submit`.  Shared checks live in :mod:`dcep.core._checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from dcep.core._handlers_corporate import open_corporate_wallet, set_daily_sweep
from dcep.core._handlers_interest import accrue_interest
from dcep.core._handlers_money import defund, fund, issue, pay_in, redeem, transfer
from dcep.core._handlers_offline import (
    load_offline,
    register_device,
    settle_offline,
    unload_offline,
)
from dcep.core._handlers_parties import appoint_regulator, authorise_bank, genesis, open_wallet
from dcep.core._handlers_pending import link_batch, pay_pending, post_pending, void_pending
from dcep.core._handlers_supervision import disclosure, freeze, unfreeze, warrant
from dcep.core._handlers_vouchers import issue_voucher, spend_voucher
from dcep.core._handlers_wallets import (
    change_category,
    close_sub_wallet,
    close_wallet,
    collect_from_sub_wallet,
    open_sub_wallet,
    top_up_sub_wallet,
)
from dcep.core._records import Posting
from dcep.core._state import LedgerState
from dcep.instructions._kinds import InstructionKind
from dcep.values._crypto import VerifyKey
from dcep.values._policy import Policy

__all__ = ["HANDLERS", "Handler"]

#: A handler: (state, policy, instruction, signer, now_us) -> postings.
Handler = Callable[[LedgerState, Policy, Any, VerifyKey, int], tuple[Posting, ...]]


#: The closed table of handlers; the ledger refuses a kind it has no handler for.
HANDLERS: Final[dict[InstructionKind, Handler]] = {
    InstructionKind.GENESIS: genesis,
    InstructionKind.AUTHORISE_BANK: authorise_bank,
    InstructionKind.ISSUE: issue,
    InstructionKind.REDEEM: redeem,
    InstructionKind.PAY_IN: pay_in,
    InstructionKind.OPEN_WALLET: open_wallet,
    InstructionKind.FUND: fund,
    InstructionKind.DEFUND: defund,
    InstructionKind.TRANSFER: transfer,
    InstructionKind.APPOINT_REGULATOR: appoint_regulator,
    InstructionKind.FREEZE: freeze,
    InstructionKind.UNFREEZE: unfreeze,
    InstructionKind.WARRANT: warrant,
    InstructionKind.DISCLOSURE: disclosure,
    InstructionKind.OPEN_SUB_WALLET: open_sub_wallet,
    InstructionKind.TOP_UP_SUB_WALLET: top_up_sub_wallet,
    InstructionKind.COLLECT_FROM_SUB_WALLET: collect_from_sub_wallet,
    InstructionKind.CLOSE_SUB_WALLET: close_sub_wallet,
    InstructionKind.CHANGE_CATEGORY: change_category,
    InstructionKind.CLOSE_WALLET: close_wallet,
    InstructionKind.PAY_PENDING: pay_pending,
    InstructionKind.POST_PENDING: post_pending,
    InstructionKind.VOID_PENDING: void_pending,
    InstructionKind.LINK_BATCH: link_batch,
    InstructionKind.ISSUE_VOUCHER: issue_voucher,
    InstructionKind.SPEND_VOUCHER: spend_voucher,
    InstructionKind.ACCRUE_INTEREST: accrue_interest,
    InstructionKind.REGISTER_DEVICE: register_device,
    InstructionKind.LOAD_OFFLINE: load_offline,
    InstructionKind.SETTLE_OFFLINE: settle_offline,
    InstructionKind.UNLOAD_OFFLINE: unload_offline,
    InstructionKind.OPEN_CORPORATE_WALLET: open_corporate_wallet,
    InstructionKind.SET_DAILY_SWEEP: set_daily_sweep,
}
