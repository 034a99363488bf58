"""An authorised operator: opens and funds wallets, keeps its customers' records.

Identity (phone, ID number) stays with the bank that opened the wallet and
never reaches the ledger, which sees only a salted commitment to it.
"""

from __future__ import annotations

from typing import final

from dcep.core._records import Receipt
from dcep.errors import NotAuthorisedError, Reason, UnknownPartyError
from dcep.instructions._kinds import (
    Disclosure,
    Fund,
    OpenWallet,
    PayIn,
    Redeem,
)
from dcep.ledger._ledger import Ledger
from dcep.parties._signer import Seed, Signer, has_kyc_field, master_seed
from dcep.parties._wallet import Wallet
from dcep.values._codes import CodeRegistry, InstitutionCode
from dcep.values._crypto import Address, SigningKey, derive_seed
from dcep.values._disclosure import CustomerRecord, kyc_digest, seal_identity
from dcep.values._money import Amount
from dcep.values._policy import WalletCategory

__all__ = ["Bank"]


@final
class Bank(Signer):
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
            if not has_kyc_field(record, required):
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
            else master_seed(seed)
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
