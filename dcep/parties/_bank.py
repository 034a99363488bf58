"""An authorised operator: opens and funds wallets, keeps its customers' records.

Identity (phone, ID number) stays with the bank that opened the wallet and
never reaches the ledger, which sees only a salted commitment to it.  The
bank keeps it in a :class:`~dcep.parties.CustomerStore` of its own, written
ahead of each ``OpenWallet`` (see :mod:`dcep.parties._customers`).
"""

from __future__ import annotations

import weakref
from typing import final

from dcep.core._records import Receipt, Rejection
from dcep.errors import (
    DcepError,
    InvalidFieldError,
    KeyAccessError,
    NotAuthorisedError,
    Reason,
    UnknownPartyError,
)
from dcep.instructions._kinds import (
    SWEEP_OFF,
    AccrueInterest,
    ChangeCategory,
    CloseWallet,
    Defund,
    Disclosure,
    Fund,
    Instruction,
    OpenCorporateWallet,
    OpenWallet,
    PayIn,
    Redeem,
    SetDailySweep,
)
from dcep.ledger._ledger import Ledger
from dcep.parties._customers import (
    CustomerRecovery,
    CustomerStore,
    KeptCustomer,
    MemoryCustomerStore,
    PendingUpdate,
)
from dcep.parties._signer import Seed, Signer, has_kyc_field, master_seed
from dcep.parties._wallet import Wallet, minute_of_day
from dcep.values._codes import CodeRegistry, InstitutionCode
from dcep.values._crypto import Address, SigningKey, derive_seed
from dcep.values._disclosure import CustomerRecord, kyc_digest, seal_identity
from dcep.values._money import Amount
from dcep.values._policy import WalletCategory

__all__ = ["Bank"]


@final
class Bank(Signer):
    """An authorised operator: keeps deposits, opens and funds wallets.

    Get one from :meth:`CentralBank.authorise_bank`, or, for a bank already
    on the ledger (after a restart), from :meth:`CentralBank.bank`.  The
    bank keeps what it learned about each wallet's holder
    (:class:`~dcep.values.CustomerRecord`) in its :attr:`customers` store;
    the ledger only ever sees a digest of it.
    """

    __slots__ = (
        "_branches",
        "_code",
        "_customers",
        "_live_wallets",
        "_name",
        "_recovery",
        "_seed",
        "_wallets_opened",
    )

    def __init__(
        self,
        ledger: Ledger,
        key: SigningKey,
        *,
        name: str,
        code: InstitutionCode,
        seed: bytes,
        customers: CustomerStore | None = None,
    ) -> None:
        super().__init__(ledger, key)
        self._name = name
        self._code = code
        self._seed = seed
        self._customers: CustomerStore = (
            customers if customers is not None else MemoryCustomerStore()
        )
        self._customers.bind(key.address, ledger.network_id)
        self._live_wallets: weakref.WeakValueDictionary[Address, Wallet] = (
            weakref.WeakValueDictionary()
        )
        self._recovery = self._settle_pending()
        self._branches = CodeRegistry()
        for branch_code, branch_name in self._customers.branches():
            self._branches.assign(InstitutionCode.parse(branch_code), branch_name, parent=code)
        # Carry on numbering after every number handed out, even to a wallet the
        # ledger refused, so that a reattached bank never derives a key twice.
        self._wallets_opened = max(
            self._customers.wallets_numbered(), ledger.bank(key.address).wallet_count
        )

    @property
    def name(self) -> str:
        """The bank's name."""
        return self._name

    @property
    def code(self) -> InstitutionCode:
        """The code the central bank assigned to this bank."""
        return self._code

    @property
    def customers(self) -> CustomerStore:
        """Where this bank keeps its customer records, wallet counter and branch codes."""
        return self._customers

    @property
    def recovery(self) -> CustomerRecovery:
        """What attaching this bank to the ledger settled in its customer store."""
        return self._recovery

    def _operates(self, wallet: Address) -> bool:
        try:
            return self._ledger.wallet(wallet).operator == self.address
        except UnknownPartyError:
            return False

    def _settle_pending(self) -> CustomerRecovery:
        # A record is pending only while its OpenWallet is in flight: after a
        # crash, the recovered ledger says whether the wallet exists.
        store = self._customers
        forward = back = 0
        for wallet in store.wallets(confirmed=False):
            if self._operates(wallet):
                store.confirm(wallet)
                forward += 1
            else:
                store.discard(wallet)
                back += 1
        # A pending category change was accepted if the ledger took the bank's
        # instruction of that sequence number: nothing later was signed before this.
        last_sequence = self._ledger.last_sequence(self.address)
        applied = dropped = 0
        for update in store.pending_updates():
            accepted = update.sequence <= last_sequence
            store.settle_update(update.wallet, applied=accepted)
            applied += accepted
            dropped += not accepted
        on_ledger = self._ledger.bank(self.address).wallet_count
        confirmed = store.wallets(confirmed=True)
        if len(confirmed) != on_ledger:
            # Rare (a ledger that lost acknowledged entries under
            # Durability.DEFERRED): look at every record.
            for wallet in confirmed:
                if not self._operates(wallet):
                    store.discard(wallet)
                    back += 1
            confirmed = store.wallets(confirmed=True)
        return CustomerRecovery(
            forward, back, max(0, on_ledger - len(confirmed)), applied, dropped
        )

    def assign_branch_code(self, segment: str, branch_name: str) -> InstitutionCode:
        """Give one of this bank's branches a code under the bank's own."""
        code = self._code.child(segment)
        self._branches.assign(code, branch_name, parent=self._code)
        self._customers.add_branch(str(code), branch_name)
        return code

    def pay_in(self, account: str, amount: Amount) -> Receipt:
        """Record a customer paying ``amount`` into deposit ``account`` (opened if new)."""
        return self._submit(lambda id_, seq: PayIn(id_, seq, account=account, amount=amount))

    def _derived_wallet_key(self, number: int) -> SigningKey:
        return SigningKey.derive(derive_seed(self._seed, f"wallet:{number}"), "wallet")

    def open_wallet(
        self,
        *,
        category: int | WalletCategory,
        phone: str | None = None,
        id_number: str | None = None,
        name: str | None = None,
        linked_account: str | None = None,
        in_person: bool = False,
        seed: Seed = None,
    ) -> Wallet:
        """Open a wallet after the KYC its category asks for; the key stays in the wallet.

        The wallet's key derives from this bank's seed and its wallet counter
        unless ``seed`` (for simulations) is given.  The holder's record is in
        :attr:`customers` before the ledger sees the wallet, and confirmed
        there before this returns.

        Raises ``KYC_INSUFFICIENT`` (a ``PermissionError``) naming what is missing.
        """
        wallet_category = WalletCategory.of(category)
        record = CustomerRecord(phone, id_number, name, linked_account, in_person)
        self._require_kyc(wallet_category, record)
        return self._open(record, wallet_category, seed, corporate=False)

    def open_corporate_wallet(
        self,
        *,
        registration: str,
        name: str | None = None,
        phone: str | None = None,
        linked_account: str | None = None,
        in_person: bool = False,
        seed: Seed = None,
    ) -> Wallet:
        """Open a wallet for a business, whose caps are the policy's corporate limits.

        ``registration`` is the business's registration number (a unified
        social credit code, a business licence number): the bank keeps it
        in the customer record, as a person's ID number, and the ledger sees
        only a digest of the record and that the wallet is corporate.
        ``linked_account`` is the business's deposit account, which daily
        sweeps go to.  Raises ``KYC_INSUFFICIENT`` naming what the policy's
        corporate KYC lacks, and ``FIELD_INVALID`` for an empty registration.
        """
        text: object = registration  # checked, not trusted
        if not isinstance(text, str) or not text.strip():
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"a business's registration number is text, not {registration!r}",
                party=self._name,
                field="registration",
            )
        record = CustomerRecord(phone, registration, name, linked_account, in_person)
        self._require_kyc(None, record)
        return self._open(record, WalletCategory.IN_PERSON, seed, corporate=True)

    def _open(
        self,
        record: CustomerRecord,
        wallet_category: WalletCategory,
        seed: Seed,
        *,
        corporate: bool,
    ) -> Wallet:
        linked_account = record.linked_account
        self._wallets_opened += 1
        number: int | None = self._wallets_opened
        if seed is None:
            key = self._derived_wallet_key(self._wallets_opened)
            while self._operates(key.address):
                # Only a bank object that lost count (a store in memory, a second
                # object) gets here: skip numbers whose wallets the ledger has.
                self._wallets_opened += 1
                number = self._wallets_opened
                key = self._derived_wallet_key(self._wallets_opened)
        else:
            key = SigningKey.derive(master_seed(seed), "wallet")
            number = None
        salt = self._kyc_salt(key.address)
        commitment = kyc_digest(salt, record)
        store = self._customers
        earlier = store.get(key.address)
        if earlier is not None and not self._operates(key.address):
            store.discard(key.address)  # an opening interrupted in this process: never took effect
            earlier = None
        if earlier is None:
            store.begin(
                KeptCustomer(key.address, record, salt, number, confirmed=False),
                self._wallets_opened,
            )

        def build(id_: int, seq: int) -> Instruction:
            if corporate:
                return OpenCorporateWallet(
                    id_,
                    seq,
                    wallet_key=key.verify_key,
                    linked_account=linked_account or "",
                    kyc_digest=commitment,
                )
            return OpenWallet(
                id_,
                seq,
                wallet_key=key.verify_key,
                category=wallet_category,
                linked_account=linked_account or "",
                kyc_digest=commitment,
            )

        try:
            self._submit(build)
        except DcepError:
            # Refused: the ledger has no such wallet, so neither may the bank (a
            # record kept for the key's existing wallet stays as it is).
            if earlier is None:
                store.discard(key.address)
            raise
        store.confirm(key.address)
        wallet = Wallet(self._ledger, key, category=wallet_category, operator=self)
        self._live_wallets[key.address] = wallet
        return wallet

    def wallet(
        self, address: Address, *, key: SigningKey | None = None, seed: Seed = None
    ) -> Wallet:
        """The wallet at ``address`` that this bank opened, ready to sign again.

        Its key is re-derived from this bank's seed when the bank derived it;
        a wallet opened with a key of its own needs that ``key`` (or the
        ``seed`` it was opened with).  The same :class:`Wallet` object is
        returned while one is in use.  Raises ``UNKNOWN_WALLET`` for a wallet
        this bank does not operate and ``KEY_NOT_HELD`` (a
        ``PermissionError``) when no key given or derivable is the wallet's.
        """
        if not self._operates(address):
            raise UnknownPartyError(
                Reason.UNKNOWN_WALLET,
                f"{self._name} operates no wallet {address}",
                party=str(address),
                field="wallet",
            )
        live = self._live_wallets.get(address)
        if live is not None and key is None and seed is None:
            return live
        if key is None and seed is not None:
            key = SigningKey.derive(master_seed(seed), "wallet")
        if key is None:
            kept = self._customers.get(address)
            if kept is not None and kept.wallet_number is not None:
                key = self._derived_wallet_key(kept.wallet_number)
        if key is None or key.address != address:
            raise KeyAccessError(
                Reason.KEY_NOT_HELD,
                f"{self._name} cannot sign for {address}: its key was not derived by this "
                "bank; pass key= or seed=",
                party=str(address),
                field="key",
            )
        if live is not None:
            return live
        category = self._ledger.wallet(address).category
        wallet = Wallet(self._ledger, key, category=category, operator=self)
        self._live_wallets[address] = wallet
        return wallet

    def fund(
        self, wallet: Wallet | Address, amount: Amount, *, from_account: str | None = None
    ) -> Receipt:
        """Move ``amount`` from the vault into ``wallet``, paid from a deposit.

        ``from_account`` defaults to the wallet's linked account on the ledger;
        a wallet without one is funded over the counter (the bank takes cash).
        """
        address = wallet.address if isinstance(wallet, Wallet) else wallet
        if from_account is None:
            # The ledger's linked account (a category change may have moved it; a
            # sub-wallet has its parent's), for a wallet this bank operates.
            from_account = (
                self._ledger.wallet(address).linked_account if self._operates(address) else ""
            )
        source = from_account
        return self._submit(
            lambda id_, seq: Fund(id_, seq, wallet=address, amount=amount, from_account=source)
        )

    def change_category(
        self,
        wallet: Wallet | Address,
        category: int | WalletCategory,
        *,
        phone: str | None = None,
        id_number: str | None = None,
        name: str | None = None,
        linked_account: str | None = None,
        in_person: bool = False,
    ) -> Receipt:
        """Move a wallet this bank operates to another category (an upgrade or a downgrade).

        An upgrade needs the KYC of the new category, given here as for
        :meth:`open_wallet` (``KYC_INSUFFICIENT`` names what is missing); the
        ledger sees only a commitment to it.  The ledger refuses a change
        that the wallet's balance, or what it paid today or this year, would
        break (``BALANCE_CAP_EXCEEDED``, ``DAILY_CAP_EXCEEDED``,
        ``ANNUAL_CAP_EXCEEDED``), and one of a wallet with open sub-wallets.
        ``linked_account`` becomes the wallet's linked account (``None``: none).
        """
        address = wallet.address if isinstance(wallet, Wallet) else wallet
        wallet_category = WalletCategory.of(category)
        record = CustomerRecord(phone, id_number, name, linked_account, in_person)
        self._require_kyc(wallet_category, record)
        salt = self._kyc_salt(address)
        commitment = kyc_digest(salt, record)
        # Written ahead, like an opening: the new record is kept once the ledger
        # has committed its digest, and a crash in between is settled on attaching.
        signed = self._sign(
            lambda id_, seq: ChangeCategory(
                id_,
                seq,
                wallet=address,
                category=wallet_category,
                linked_account=linked_account or "",
                kyc_digest=commitment,
            )
        )
        sequence = signed.instruction.sequence
        store = self._customers
        store.begin_update(PendingUpdate(address, record, salt, sequence))
        try:
            receipt = self._ledger.submit(signed)
        except DcepError:
            if self._ledger.last_sequence(self.address) < sequence:
                store.settle_update(address, applied=False)
            raise
        store.settle_update(address, applied=True)
        return receipt

    def close_wallet(self, wallet: Wallet | Address, *, to_account: str | None = None) -> Receipt:
        """Close a wallet this bank operates; its balance goes to a deposit account.

        ``to_account`` defaults to the wallet's linked account.  Its
        sub-wallets must be closed first (``WALLET_HAS_SUB_WALLETS``).  A closed
        wallet receives nothing and signs nothing again (``WALLET_CLOSED``).
        """
        address = wallet.address if isinstance(wallet, Wallet) else wallet
        target = to_account or ""
        return self._submit(
            lambda id_, seq: CloseWallet(id_, seq, wallet=address, to_account=target)
        )

    def accrue_interest(self, wallet: Wallet | Address) -> Receipt:
        """Pay a wallet this bank operates its interest since the last accrual (2026 mode).

        The ledger works the amount out from its clock and the policy's rate
        (see ``docs/concepts/reserves.md``); the first accrual of a wallet
        starts its interest period and pays nothing.  Refused with
        ``INTEREST_NOT_PAYABLE`` unless the policy is in the 2026 reserve mode
        with a rate and this bank is no payment institution.
        """
        address = wallet.address if isinstance(wallet, Wallet) else wallet
        return self._submit(lambda id_, seq: AccrueInterest(id_, seq, wallet=address))

    def set_daily_sweep(
        self, wallet: Wallet | Address, *, at: str | None, keep: Amount | None = None
    ) -> Receipt:
        """Sweep a corporate wallet this bank operates to its linked account each day.

        ``at`` is the local time of day, ``"HH:MM"`` in the policy's time
        zone (``None`` stops the sweep); each sweep leaves ``keep`` (default
        nothing) in the wallet.  The sweeps run when :meth:`run_sweeps` is
        called at or after that time.  Refused with ``WALLET_NOT_CORPORATE``
        for a personal wallet; ``FIELD_INVALID`` for a time that is not one.
        """
        address = wallet.address if isinstance(wallet, Wallet) else wallet
        minute = SWEEP_OFF if at is None else minute_of_day(at)
        kept = Amount(0) if keep is None else keep
        return self._submit(
            lambda id_, seq: SetDailySweep(id_, seq, wallet=address, at_minute=minute, keep=kept)
        )

    def run_sweeps(self) -> list[Receipt | Rejection]:
        """Sweep every corporate wallet of this bank whose daily sweep is due now.

        Due by the ledger's clock: the day's sweep time has come, the wallet
        was not swept today, and it holds more than the sweep keeps.  Each
        sweep is one journalled :class:`~dcep.instructions.Defund` signed by
        this bank, for exactly the wallet's spendable balance above what it
        keeps, into its linked account.  Returns, oldest sweep set first, the
        receipt of each, or its :class:`~dcep.core.Rejection` (a deposit
        account that would overflow): one refusal stops none of the others.
        Calling it again the same day sweeps nothing more.
        """
        done: list[Receipt | Rejection] = []
        for sweep in self._ledger.daily_sweeps(operator=self.address, due=True):
            try:
                done.append(self.sweep(sweep.wallet))
            except DcepError as error:
                done.append(Rejection(error.instruction_id, error))
        return done

    def sweep(self, wallet: Wallet | Address, amount: Amount | None = None) -> Receipt:
        """Submit today's sweep of one corporate wallet, as :meth:`run_sweeps` does.

        ``amount`` defaults to the wallet's spendable balance above what its
        sweep keeps, as the ledger sees it now.  Refused with
        ``SWEEP_NOT_SET``, ``SWEEP_NOT_DUE``, ``SWEEP_ALREADY_DONE`` or
        ``SWEEP_AMOUNT_WRONG`` (an amount that is not that balance).
        """
        address = wallet.address if isinstance(wallet, Wallet) else wallet
        if amount is None:
            sweep = self._ledger.daily_sweep(address)
            info = self._ledger.wallet(address)
            kept = sweep.keep if sweep is not None else Amount(0)
            # Nothing above what it keeps: a fen, which the ledger refuses by name.
            amount = Amount(max(info.balance.fen - info.reserved.fen - kept.fen, 1))
        swept = amount
        return self._submit(
            lambda id_, seq: Defund(id_, seq, wallet=address, amount=swept, to_account="")
        )

    def redeem(self, amount: Amount) -> Receipt:
        """Return ``amount`` of e-CNY from the vault to the central bank for reserves."""
        return self._submit(lambda id_, seq: Redeem(id_, seq, amount=amount))

    def answer_warrant(self, regulator: Address, warrant_id: int, wallet: Address) -> Disclosure:
        """Disclose who holds ``wallet`` to the regulator that asked; returns the disclosure.

        The identity is sealed to the regulator's key, so the journal records
        that an unmasking happened, not whom it unmasked.
        """
        kept = self._customers.get(wallet)
        regulator_key = self._ledger.regulator_key(regulator)
        if kept is None:
            raise UnknownPartyError(
                Reason.UNKNOWN_WALLET,
                f"{self._name} did not open wallet {wallet}",
                party=self._name,
                field="wallet",
            )
        sealed = seal_identity(
            kept.record,
            kept.salt,
            regulator_key,
            derive_seed(self._seed, f"warrant:{regulator}:{warrant_id}"),
        )
        signed = self._sign(
            lambda id_, seq: Disclosure(
                id_, seq, regulator=regulator, warrant_id=warrant_id, wallet=wallet, sealed=sealed
            )
        )
        self._ledger.submit(signed)
        instruction = signed.instruction
        assert isinstance(instruction, Disclosure)
        return instruction

    def _require_kyc(self, category: WalletCategory | None, record: CustomerRecord) -> None:
        # Before anything is signed or stored: the policy's KYC for the category
        # (None: for a corporate wallet).
        policy = self._ledger.policy
        limits = policy.corporate if category is None else policy.limits(category)
        whose = "corporate" if category is None else f"category {int(category)}"
        for required in sorted(limits.required_kyc):
            if not has_kyc_field(record, required):
                raise NotAuthorisedError(
                    Reason.KYC_INSUFFICIENT,
                    f"a {whose} wallet needs {required.value}",
                    party=self._name,
                    field=required.value,
                )

    def _kyc_salt(self, wallet: Address) -> bytes:
        return derive_seed(self._seed, f"kyc:{wallet}")

    def __repr__(self) -> str:
        return f"<Bank {self._name} {self._code}>"
