"""The parties: key holders that build, sign and submit instructions.

A :class:`CentralBank`, its :class:`Bank` operators and their :class:`Wallet`
holders each keep their own signing key and sequence counter; the ledger
only ever sees what they sign.  Keys come from seeds: in a simulation one
seed gives every key, so a run repeats byte for byte.  Identity (phone, ID
number) stays with the bank that opened the wallet and never reaches the
ledger, which sees only a commitment to it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Final, final

from dcep.core._records import Receipt
from dcep.errors import InvalidFieldError, NotAuthorisedError, Reason, UnknownPartyError
from dcep.instructions._encoding import SignedInstruction
from dcep.instructions._kinds import (
    AppointRegulator,
    AuthoriseBank,
    Defund,
    Disclosure,
    Freeze,
    Fund,
    Genesis,
    Instruction,
    Issue,
    OpenWallet,
    PayIn,
    Redeem,
    Transfer,
    Unfreeze,
    Warrant,
)
from dcep.ledger._ledger import Ledger
from dcep.values._codes import CodeRegistry, InstitutionCode
from dcep.values._crypto import Address, SigningKey, VerifyKey, derive_seed, digest
from dcep.values._disclosure import CustomerRecord, kyc_digest, open_identity, seal_identity
from dcep.values._money import Amount
from dcep.values._policy import KycField, WalletCategory

__all__ = ["Bank", "CentralBank", "Regulator", "Wallet"]

DEFAULT_CENTRAL_BANK_NAME: Final = "People's Bank of China"
DEFAULT_CENTRAL_BANK_CODE: Final = "MA.156.1100.00"

Seed = bytes | str | int | None


def _master_seed(seed: Seed) -> bytes:
    """Turn any seed a user passes into 32 bytes; ``None`` draws fresh randomness.

    The type is part of the input, so ``65``, ``"A"`` and ``b"A"`` differ.
    """
    if seed is None:
        return secrets.token_bytes(32)
    if isinstance(seed, int):
        raw = b"int:" + seed.to_bytes((seed.bit_length() + 8) // 8, "big", signed=True)
    elif isinstance(seed, str):
        raw = b"str:" + seed.encode("utf-8")
    elif isinstance(seed, (bytes, bytearray, memoryview)):
        raw = b"bytes:" + bytes(seed)
    else:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"a seed is an int, str or bytes (or None), not {seed!r}",
            field="seed",
        )
    return digest(raw, person=b"dcep.master")


def _has(record: CustomerRecord, field: KycField) -> bool:
    value = {
        KycField.PHONE: record.phone,
        KycField.ID_NUMBER: record.id_number,
        KycField.LINKED_ACCOUNT: record.linked_account,
        KycField.IN_PERSON: record.in_person or None,
    }[field]
    return bool(value)


class _Signer:
    """A key bound to a ledger, numbering and submitting what it signs."""

    __slots__ = ("_key", "_last_id", "_last_sequence", "_ledger")

    def __init__(self, ledger: Ledger, key: SigningKey) -> None:
        self._ledger = ledger
        self._key = key
        # Start after anything this key already did on the ledger, e.g. after recovery.
        self._last_sequence = ledger.last_sequence(key.address)
        self._last_id = self._last_sequence

    @property
    def address(self) -> Address:
        """Where this party is known on the ledger."""
        return self._key.address

    @property
    def verify_key(self) -> VerifyKey:
        """This party's public key."""
        return self._key.verify_key

    @property
    def ledger(self) -> Ledger:
        """The ledger this party signs for."""
        return self._ledger

    def _sign(self, build: Callable[[int, int], Instruction]) -> SignedInstruction:
        # Sequence numbers may skip (a refused instruction consumes one here but
        # none on the ledger), so signing ahead of submitting is always safe.
        instruction = build(self._last_id + 1, self._last_sequence + 1)
        self._last_id += 1
        self._last_sequence += 1
        return SignedInstruction.sign(instruction, self._key, self._ledger.network_id)

    def _submit(self, build: Callable[[int, int], Instruction]) -> Receipt:
        return self._ledger.submit(self._sign(build))


@final
class CentralBank(_Signer):
    """The issuer: admits banks and issues e-CNY to them against reserves.

    Creating one installs it as the ledger's central bank (a genesis
    instruction signed by its own key), so a ledger has exactly one.
    """

    __slots__ = ("_code", "_name", "_seed")

    def __init__(
        self,
        ledger: Ledger,
        *,
        name: str = DEFAULT_CENTRAL_BANK_NAME,
        code: str | InstitutionCode = DEFAULT_CENTRAL_BANK_CODE,
        seed: Seed = 0,
    ) -> None:
        self._seed = _master_seed(seed)
        super().__init__(ledger, SigningKey.derive(self._seed, "central-bank"))
        self._name = name
        self._code = code if isinstance(code, InstitutionCode) else InstitutionCode.parse(code)
        existing = ledger.central_bank
        if existing is not None and existing.key != self.verify_key:
            # Another central bank's ledger: the ledger refuses the genesis, and
            # its journal keeps its signer.
            self._submit(lambda id_, seq: Genesis(id_, seq, name=name, code=self._code))
            return
        if ledger.journal is not None:
            # The registration centre is the central bank's: it signs the blocks.
            ledger.journal.attach_signer(self._key)
        if existing is None:
            self._submit(lambda id_, seq: Genesis(id_, seq, name=name, code=self._code))

    @property
    def name(self) -> str:
        """The central bank's name."""
        return self._name

    @property
    def code(self) -> InstitutionCode:
        """The central bank's institution code."""
        return self._code

    def authorise_bank(
        self,
        name: str,
        *,
        code: str | InstitutionCode,
        reserves: Amount,
        seed: Seed = None,
    ) -> Bank:
        """Admit an operator that pledges ``reserves``; returns the bank, holding its key.

        The bank's key derives from this central bank's seed and the code
        unless ``seed`` is given, so that a whole simulation follows one seed.
        """
        parsed = code if isinstance(code, InstitutionCode) else InstitutionCode.parse(code)
        bank_seed = (
            derive_seed(self._seed, f"bank:{parsed}") if seed is None else _master_seed(seed)
        )
        key = SigningKey.derive(bank_seed, "bank")
        self._submit(
            lambda id_, seq: AuthoriseBank(
                id_, seq, bank_key=key.verify_key, name=name, code=parsed, reserves=reserves
            )
        )
        return Bank(self._ledger, key, name=name, code=parsed, seed=bank_seed)

    def appoint_regulator(self, name: str, *, seed: Seed = None) -> Regulator:
        """Appoint a supervisor that can freeze wallets and ask who holds them."""
        regulator_seed = (
            derive_seed(self._seed, f"regulator:{name}") if seed is None else _master_seed(seed)
        )
        key = SigningKey.derive(regulator_seed, "regulator")
        self._submit(
            lambda id_, seq: AppointRegulator(id_, seq, regulator_key=key.verify_key, name=name)
        )
        return Regulator(self._ledger, key, name=name)

    def issue(self, bank: Bank | Address, amount: Amount) -> Receipt:
        """Issue ``amount`` of e-CNY into ``bank``'s vault against its reserves."""
        address = bank.address if isinstance(bank, Bank) else bank
        return self._submit(lambda id_, seq: Issue(id_, seq, bank=address, amount=amount))

    def __repr__(self) -> str:
        return f"<CentralBank {self._name} {self._code}>"


@final
class Bank(_Signer):
    """An authorised operator: keeps deposits, opens and funds wallets.

    Get one from :meth:`CentralBank.authorise_bank`.  The bank keeps what it
    learned about each wallet's holder (:class:`CustomerRecord`); the ledger
    only ever sees a digest of it.
    """

    __slots__ = ("_branches", "_code", "_customers", "_name", "_seed", "_wallets_opened")

    def __init__(
        self, ledger: Ledger, key: SigningKey, *, name: str, code: InstitutionCode, seed: bytes
    ) -> None:
        super().__init__(ledger, key)
        self._name = name
        self._code = code
        self._seed = seed
        self._customers: dict[Address, CustomerRecord] = {}
        self._branches = CodeRegistry()
        # Reattached after recovery, the bank carries on numbering its wallets.
        self._wallets_opened = ledger.bank(key.address).wallet_count

    @property
    def name(self) -> str:
        """The bank's name."""
        return self._name

    @property
    def code(self) -> InstitutionCode:
        """The code the central bank assigned to this bank."""
        return self._code

    def assign_branch_code(self, segment: str, branch_name: str) -> InstitutionCode:
        """Give one of this bank's branches a code under the bank's own."""
        code = self._code.child(segment)
        self._branches.assign(code, branch_name, parent=self._code)
        return code

    def pay_in(self, account: str, amount: Amount) -> Receipt:
        """Record a customer paying ``amount`` into deposit ``account`` (opened if new)."""
        return self._submit(lambda id_, seq: PayIn(id_, seq, account=account, amount=amount))

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

        Raises ``KYC_INSUFFICIENT`` (a ``PermissionError``) naming what is missing.
        """
        wallet_category = WalletCategory.of(category)
        record = CustomerRecord(phone, id_number, name, linked_account, in_person)
        for required in sorted(self._ledger.policy.limits(wallet_category).required_kyc):
            if not _has(record, required):
                raise NotAuthorisedError(
                    Reason.KYC_INSUFFICIENT,
                    f"a category {int(wallet_category)} wallet needs {required.value}",
                    party=self._name,
                    field=required.value,
                )
        self._wallets_opened += 1
        wallet_seed = (
            derive_seed(self._seed, f"wallet:{self._wallets_opened}")
            if seed is None
            else _master_seed(seed)
        )
        key = SigningKey.derive(wallet_seed, "wallet")
        commitment = kyc_digest(self._kyc_salt(key.address), record)
        self._submit(
            lambda id_, seq: OpenWallet(
                id_,
                seq,
                wallet_key=key.verify_key,
                category=wallet_category,
                linked_account=linked_account or "",
                kyc_digest=commitment,
            )
        )
        self._customers[key.address] = record
        return Wallet(self._ledger, key, category=wallet_category, operator=self)

    def fund(
        self, wallet: Wallet | Address, amount: Amount, *, from_account: str | None = None
    ) -> Receipt:
        """Move ``amount`` from the vault into ``wallet``, paid from a deposit.

        ``from_account`` defaults to the wallet's linked account; a wallet
        without one is funded over the counter (the bank takes cash).
        """
        address = wallet.address if isinstance(wallet, Wallet) else wallet
        if from_account is None:
            record = self._customers.get(address)
            from_account = record.linked_account if record and record.linked_account else ""
        source = from_account
        return self._submit(
            lambda id_, seq: Fund(id_, seq, wallet=address, amount=amount, from_account=source)
        )

    def redeem(self, amount: Amount) -> Receipt:
        """Return ``amount`` of e-CNY from the vault to the central bank for reserves."""
        return self._submit(lambda id_, seq: Redeem(id_, seq, amount=amount))

    def answer_warrant(self, regulator: Address, warrant_id: int, wallet: Address) -> Disclosure:
        """Disclose who holds ``wallet`` to the regulator that asked; returns the disclosure.

        The identity is sealed to the regulator's key, so the journal records
        that an unmasking happened, not whom it unmasked.
        """
        record = self._customers.get(wallet)
        regulator_key = self._ledger.regulator_key(regulator)
        if record is None:
            raise UnknownPartyError(
                Reason.UNKNOWN_WALLET,
                f"{self._name} did not open wallet {wallet}",
                party=self._name,
                field="wallet",
            )
        sealed = seal_identity(
            record,
            self._kyc_salt(wallet),
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

    def _kyc_salt(self, wallet: Address) -> bytes:
        return derive_seed(self._seed, f"kyc:{wallet}")

    def __repr__(self) -> str:
        return f"<Bank {self._name} {self._code}>"


@final
class Wallet(_Signer):
    """A user's wallet: holds its own key, so only it can move its money."""

    __slots__ = ("_category", "_operator")

    def __init__(
        self, ledger: Ledger, key: SigningKey, *, category: WalletCategory, operator: Bank
    ) -> None:
        super().__init__(ledger, key)
        self._category = category
        self._operator = operator

    @property
    def category(self) -> WalletCategory:
        """The wallet's e-CNY category, 1 to 4."""
        return self._category

    @property
    def operator(self) -> Bank:
        """The bank that opened and operates this wallet."""
        return self._operator

    @property
    def balance(self) -> Amount:
        """What the ledger says this wallet holds now."""
        return self._ledger.balance(self.address)

    def sign_payment(
        self, payee: Wallet | Address, amount: Amount, *, memo: str = ""
    ) -> SignedInstruction:
        """Sign a payment without submitting it, for batches and offline hand-over."""
        to = payee.address if isinstance(payee, Wallet) else payee
        return self._sign(
            lambda id_, seq: Transfer(
                id_, seq, payer=self.address, payee=to, amount=amount, memo=memo
            )
        )

    def pay(self, payee: Wallet | Address, amount: Amount, *, memo: str = "") -> Receipt:
        """Pay ``amount`` to ``payee``; returns the receipt or raises why not."""
        return self._ledger.submit(self.sign_payment(payee, amount, memo=memo))

    def defund(self, amount: Amount, *, to_account: str | None = None) -> Receipt:
        """Return ``amount`` to the bank, into the linked (or named) deposit account."""
        target = to_account or ""
        return self._submit(
            lambda id_, seq: Defund(
                id_, seq, wallet=self.address, amount=amount, to_account=target
            )
        )

    def __repr__(self) -> str:
        return f"<Wallet {self.address} category {int(self._category)}>"


@final
class Regulator(_Signer):
    """A supervisor: freezes wallets and, under a journalled warrant, learns who holds one.

    Get one from :meth:`CentralBank.appoint_regulator`.
    """

    __slots__ = ("_name",)

    def __init__(self, ledger: Ledger, key: SigningKey, *, name: str) -> None:
        super().__init__(ledger, key)
        self._name = name

    @property
    def name(self) -> str:
        """The regulator's name."""
        return self._name

    def freeze(self, wallet: Address, reason: str) -> Receipt:
        """Stop ``wallet`` paying out; payments to it still settle."""
        return self._submit(lambda id_, seq: Freeze(id_, seq, wallet=wallet, reason=reason))

    def unfreeze(self, wallet: Address, reason: str) -> Receipt:
        """Lift a freeze of ``wallet``."""
        return self._submit(lambda id_, seq: Unfreeze(id_, seq, wallet=wallet, reason=reason))

    def issue_warrant(self, wallet: Address, reason: str) -> int:
        """Ask the operator of ``wallet`` who holds it; returns the warrant's id."""
        receipt = self._submit(lambda id_, seq: Warrant(id_, seq, wallet=wallet, reason=reason))
        return receipt.instruction_id

    def read_disclosure(
        self, disclosure: Disclosure, committed_digest: bytes | None = None
    ) -> CustomerRecord:
        """Open a bank's answer to one of this regulator's warrants.

        With ``committed_digest`` (the ``kyc_digest`` of the wallet's
        OpenWallet instruction, from the journal) the record is also checked
        against what the bank committed to when it opened the wallet.
        """
        return open_identity(disclosure.sealed, self._key, committed_digest)

    def __repr__(self) -> str:
        return f"<Regulator {self._name}>"
