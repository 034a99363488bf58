"""The ledger: a deterministic state machine over signed instructions.

Submitting an instruction runs, in order: the stateless checks (it decodes,
its signature is good for this network and kind), idempotency (the same id
from the same signer returns the first receipt), the signer's sequence
number, then the kind's handler (roles, balances, caps), which either refuses
and changes nothing or applies the whole instruction.  Each accepted
instruction becomes an :class:`~dcep.Entry` handed to every subscriber: the
journal, storage, the regulator view and replicas are all subscribers, and
the ledger knows none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Final, final

from dcep._clock import Clock, ManualClock
from dcep._codes import InstitutionCode
from dcep._crypto import MAX_NETWORK_ID_SIZE, Address, digest
from dcep._encoding import SignedInstruction
from dcep._errors import (
    DcepError,
    DuplicateError,
    InvalidFieldError,
    InvariantError,
    Reason,
    SequenceError,
    UnknownPartyError,
)
from dcep._handlers import HANDLERS
from dcep._invariants import find_violations
from dcep._money import Amount
from dcep._policy import Policy
from dcep._records import (
    BankInfo,
    CentralBankInfo,
    Entry,
    Receipt,
    Rejection,
    SupplyReport,
    WalletInfo,
)
from dcep._state import BankBooks, LedgerState, WalletAccount

__all__ = ["Ledger"]

DEFAULT_NETWORK_ID: Final = "dcep-sim"
_DIGEST_PERSON: Final = b"dcep.instr"

Listener = Callable[[Entry], None]


def _network_id_bytes(network_id: str) -> bytes:
    raw = network_id.encode("utf-8") if isinstance(network_id, str) else b""  # type: ignore[redundant-expr]
    if not raw or len(raw) > MAX_NETWORK_ID_SIZE:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"a network id is 1 to {MAX_NETWORK_ID_SIZE} bytes of UTF-8, not {network_id!r}",
            field="network_id",
        )
    return raw


@final
class Ledger:
    """The registration centre's ledger of e-CNY, in memory.

    ``network_id`` names this ledger in every signature, so instructions
    signed for one ledger are refused by every other.  ``policy`` fixes the
    wallet caps and reserve mode; ``clock`` is the only source of time
    (a :class:`~dcep.ManualClock` by default, so runs repeat exactly).

    >>> import dcep
    >>> ledger = dcep.Ledger()
    >>> pboc = dcep.CentralBank(ledger, seed=b"doctest")
    >>> ledger.supply().outstanding
    Amount(fen=0)
    """

    __slots__ = ("_clock", "_listeners", "_network_id", "_policy", "_state")

    def __init__(
        self,
        *,
        network_id: str = DEFAULT_NETWORK_ID,
        policy: Policy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._network_id = _network_id_bytes(network_id)
        self._policy = policy if policy is not None else Policy()
        self._clock: Clock = clock if clock is not None else ManualClock()
        self._state = LedgerState()
        self._listeners: list[Listener] = []

    # -- configuration ---------------------------------------------------------

    @property
    def network_id(self) -> bytes:
        """The bytes every signature on this ledger is bound to."""
        return self._network_id

    @property
    def policy(self) -> Policy:
        """The rules this ledger runs under."""
        return self._policy

    @property
    def clock(self) -> Clock:
        """The ledger's only source of time."""
        return self._clock

    # -- submitting ------------------------------------------------------------

    def submit(self, instruction: SignedInstruction | bytes) -> Receipt:
        """Check and apply one signed instruction, atomically; return its receipt.

        Raises a :class:`~dcep.DcepError` subclass (with its ``reason``) if the
        instruction is refused; the ledger is then exactly as it was.  A
        second submission of an accepted instruction (same signer, same id,
        same bytes) returns the first receipt and changes nothing; the same id
        with different content raises ``ID_REUSED``.  Refused instructions are
        not remembered, so they may be corrected and sent again.
        """
        signed = (
            instruction
            if isinstance(instruction, SignedInstruction)
            else SignedInstruction.from_bytes(instruction)
        )
        signed.verify(self._network_id)
        return self._apply(signed)

    def submit_many(
        self, instructions: Iterable[SignedInstruction | bytes]
    ) -> list[Receipt | Rejection]:
        """Submit each instruction in order; one result per instruction.

        A refused instruction yields a :class:`~dcep.Rejection` and does not
        stop the ones after it (sequence numbers may skip, so they still fit).
        """
        results: list[Receipt | Rejection] = []
        for instruction in instructions:
            try:
                results.append(self.submit(instruction))
            except DcepError as error:
                results.append(Rejection(error.instruction_id, error))
        return results

    def _apply(self, signed: SignedInstruction) -> Receipt:
        state = self._state
        instruction = signed.instruction
        signer = signed.signer
        signer_address = signer.address
        key = (signer_address, instruction.id)
        body_digest = digest(signed.body, person=_DIGEST_PERSON)
        prior = state.receipts.get(key)
        if prior is not None:
            if prior[0] == body_digest:
                return prior[1]
            raise DuplicateError(
                Reason.ID_REUSED,
                "this signer already used the id for a different instruction",
                instruction_id=instruction.id,
                party=str(signer_address),
                field="id",
            )
        last_sequence = state.sequences.get(signer_address, 0)
        if instruction.sequence <= last_sequence:
            raise SequenceError(
                Reason.SEQUENCE_REPLAYED,
                f"sequence {instruction.sequence} is not above the last accepted, "
                f"{last_sequence}: a replay or out of order",
                instruction_id=instruction.id,
                party=str(signer_address),
                field="sequence",
            )
        now_us = self._clock.now_us()
        postings = HANDLERS[instruction.KIND](state, self._policy, instruction, signer, now_us)
        receipt = Receipt(
            entry_number=state.entry_count,
            instruction_id=instruction.id,
            kind=instruction.KIND,
            signer=signer_address,
            accepted_at_us=now_us,
            postings=postings,
        )
        state.sequences[signer_address] = instruction.sequence
        state.receipts[key] = (body_digest, receipt)
        state.entry_count += 1
        if self._listeners:
            entry = Entry(receipt, signed)
            for listener in self._listeners:
                listener(entry)
        return receipt

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every entry accepted from now on; returns an unsubscribe.

        Listeners run in acceptance order, after the state has changed, and
        must not raise: the entry is already accepted.
        """
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # -- reading ---------------------------------------------------------------

    @property
    def central_bank(self) -> CentralBankInfo | None:
        """The issuer, once the genesis instruction has been accepted."""
        return self._state.central_bank

    @property
    def entry_count(self) -> int:
        """How many instructions have been accepted."""
        return self._state.entry_count

    def last_sequence(self, signer: Address) -> int:
        """The last sequence number accepted from ``signer`` (0 if none)."""
        return self._state.sequences.get(signer, 0)

    def balance(self, wallet: Address) -> Amount:
        """What ``wallet`` holds; raises ``UNKNOWN_WALLET`` for a stranger."""
        return Amount(self._wallet(wallet).holdings_fen())

    def wallet(self, address: Address) -> WalletInfo:
        """A snapshot of one wallet."""
        return _wallet_info(address, self._wallet(address))

    def wallets(self) -> Iterator[WalletInfo]:
        """Snapshots of every wallet, in the order they were opened."""
        for address, account in self._state.wallets.items():
            yield _wallet_info(address, account)

    def bank(self, which: Address | InstitutionCode | str) -> BankInfo:
        """A snapshot of one bank's books, by address, institution code or name."""
        for address, books in self._state.banks.items():
            if which in (address, books.code, books.name, str(books.code)):
                return _bank_info(address, books)
        raise UnknownPartyError(
            Reason.UNKNOWN_BANK, f"no authorised bank {which}", party=str(which)
        )

    def banks(self) -> list[BankInfo]:
        """Snapshots of every bank, in the order they were authorised."""
        return [_bank_info(address, books) for address, books in self._state.banks.items()]

    def supply(self) -> SupplyReport:
        """Where all e-CNY is, by tier."""
        state = self._state
        return SupplyReport(
            issued=Amount(state.issued_fen),
            redeemed=Amount(state.redeemed_fen),
            in_vaults=Amount(sum(bank.vault_fen for bank in state.banks.values())),
            in_wallets=Amount(sum(w.holdings_fen() for w in state.wallets.values())),
        )

    def check_invariants(self) -> SupplyReport:
        """Prove the ledger's promises hold now; return the supply they were checked on.

        Checks that issued - redeemed equals e-CNY in vaults plus wallets; each
        bank's outstanding issuance is within its pledged reserves, its books
        balance and its deposits match their history; nothing is negative;
        every wallet is within its caps; sequence numbers only went up.
        Raises :class:`~dcep.InvariantError` naming every violation.
        """
        problems = find_violations(self._state, self._policy)
        if problems:
            raise InvariantError(Reason.INVARIANT_VIOLATED, "; ".join(problems))
        return self.supply()

    def _check(self) -> None:
        """Assert every invariant: the hook the stateful tests call after each step."""
        problems = find_violations(self._state, self._policy)
        assert not problems, problems

    def _wallet(self, address: Address) -> WalletAccount:
        account = self._state.wallets.get(address)
        if account is None:
            raise UnknownPartyError(
                Reason.UNKNOWN_WALLET, f"no wallet {address}", party=str(address)
            )
        return account

    def __repr__(self) -> str:
        return (
            f"<Ledger {self._network_id.decode('utf-8', 'replace')!r}: "
            f"{len(self._state.banks)} banks, {len(self._state.wallets)} wallets, "
            f"{self._state.entry_count} entries>"
        )


def _wallet_info(address: Address, account: WalletAccount) -> WalletInfo:
    return WalletInfo(
        address=address,
        key=account.key,
        category=account.category,
        operator=account.operator,
        linked_account=account.linked_account,
        balance=Amount(account.holdings_fen()),
        spent_today=Amount(account.spent_today_fen),
        spent_this_year=Amount(account.spent_this_year_fen),
    )


def _bank_info(address: Address, books: BankBooks) -> BankInfo:
    return BankInfo(
        name=books.name,
        code=books.code,
        address=address,
        reserves_pledged=Amount(books.reserves_pledged_fen),
        reserves_available=Amount(books.reserves_available_fen),
        outstanding_issuance=Amount(books.outstanding_fen),
        vault=Amount(books.vault_fen),
        cash=Amount(books.cash_fen),
        customer_deposits=Amount(books.deposits_total_fen),
        wallet_count=books.wallet_count,
    )
