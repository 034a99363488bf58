"""The issuer: admits banks and regulators, issues and redeems e-CNY."""

from __future__ import annotations

from typing import Final, final

from dcep.core._records import Receipt
from dcep.instructions._kinds import (
    AppointRegulator,
    AuthoriseBank,
    Genesis,
    Issue,
)
from dcep.ledger._ledger import Ledger
from dcep.parties._bank import Bank
from dcep.parties._regulator import Regulator
from dcep.parties._signer import Seed, Signer, master_seed
from dcep.values._codes import InstitutionCode
from dcep.values._crypto import Address, SigningKey, derive_seed
from dcep.values._money import Amount

__all__ = ["CentralBank"]

DEFAULT_CENTRAL_BANK_NAME: Final = "People's Bank of China"
DEFAULT_CENTRAL_BANK_CODE: Final = "MA.156.1100.00"


@final
class CentralBank(Signer):
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
        self._seed = master_seed(seed)
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
            derive_seed(self._seed, f"bank:{parsed}") if seed is None else master_seed(seed)
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
            derive_seed(self._seed, f"regulator:{name}") if seed is None else master_seed(seed)
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
