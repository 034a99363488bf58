"""The issuer: admits banks and regulators, issues and redeems e-CNY.

Where each party's key comes from (see ``docs/keys.md``):

* ``seed=`` (simulations): every key derives from it, so a run repeats
  byte for byte.  Anyone who knows the seed holds every key.
* ``keys=`` (a :class:`~dcep.values.KeyFile`): a secret drawn from the
  operating system's randomness, saved encrypted before it is first used,
  and read back after a restart.
* neither: fresh randomness, lost with the process; refused for a ledger
  kept in a file, whose keys must outlive the process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, final

from dcep.core._records import Receipt
from dcep.errors import InvalidFieldError, KeyAccessError, Reason, UnknownPartyError
from dcep.instructions._kinds import (
    AppointRegulator,
    AuthoriseBank,
    Genesis,
    Issue,
)
from dcep.journal._sqlite_store import SqliteStore
from dcep.ledger._ledger import Ledger
from dcep.parties._bank import Bank
from dcep.parties._customers import CustomerStore, MemoryCustomerStore, SqliteCustomerStore
from dcep.parties._regulator import Regulator
from dcep.parties._signer import Seed, Signer, master_seed
from dcep.values._codes import InstitutionCode
from dcep.values._crypto import Address, SigningKey, derive_seed
from dcep.values._keyfile import KeyFile
from dcep.values._money import Amount

__all__ = ["CentralBank"]

DEFAULT_CENTRAL_BANK_NAME: Final = "People's Bank of China"
DEFAULT_CENTRAL_BANK_CODE: Final = "MA.156.1100.00"
#: The label of the central bank's secret in a key file.
CENTRAL_BANK_KEY_LABEL: Final = "central-bank"

Customers = CustomerStore | str | os.PathLike[str] | None


def _bank_label(code: InstitutionCode) -> str:
    return f"bank:{code}"


def _regulator_label(name: str) -> str:
    return f"regulator:{name}"


def _file_path(ledger: Ledger) -> Path | None:
    """The ledger's database file, if it is kept in one."""
    journal = ledger.journal
    if journal is not None and isinstance(journal.store, SqliteStore):
        return journal.store.path
    return None


def _both_given() -> InvalidFieldError:
    return InvalidFieldError(
        Reason.FIELD_INVALID,
        "give seed= (a simulation) or keys= (a key file), not both",
        field="keys",
    )


def _not_held(what: str, party: Address | None = None) -> KeyAccessError:
    return KeyAccessError(
        Reason.KEY_NOT_HELD,
        f"the key given is not {what}'s",
        party=None if party is None else str(party),
        field="keys",
    )


@final
class CentralBank(Signer):
    """The issuer: admits banks and issues e-CNY to them against reserves.

    Creating one installs it as the ledger's central bank (a genesis
    instruction signed by its own key), so a ledger has exactly one; on a
    ledger that already has this central bank it reattaches (after a
    restart, :meth:`restore` says so more plainly).

    ``seed`` is for simulations: the central bank's key, and by default every
    bank's, regulator's and wallet's, derive from it.  ``keys`` is a
    :class:`~dcep.values.KeyFile` holding (or given, on first use) a secret
    from the operating system's randomness.  Without either the key is fresh
    randomness that dies with the process, so two ledgers never share a key;
    a ledger kept in a file refuses that (``FIELD_INVALID``, field ``keys``).
    """

    __slots__ = ("_banks", "_code", "_keys", "_name", "_seed")

    def __init__(
        self,
        ledger: Ledger,
        *,
        name: str = DEFAULT_CENTRAL_BANK_NAME,
        code: str | InstitutionCode = DEFAULT_CENTRAL_BANK_CODE,
        seed: Seed = None,
        keys: KeyFile | None = None,
    ) -> None:
        existing = ledger.central_bank
        if seed is not None and keys is not None:
            raise _both_given()
        if keys is not None:
            self._seed = keys.secret(CENTRAL_BANK_KEY_LABEL, create=existing is None)
        elif seed is None and _file_path(ledger) is not None:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                "a ledger kept in a file needs keys that outlive this process: pass keys= "
                "(a KeyFile), or seed= for a simulation",
                field="keys",
            )
        else:
            self._seed = master_seed(seed)
        super().__init__(ledger, SigningKey.derive(self._seed, "central-bank"))
        self._keys = keys
        self._name = name
        self._code = code if isinstance(code, InstitutionCode) else InstitutionCode.parse(code)
        self._banks: dict[Address, Bank] = {}
        if existing is not None and existing.key != self.verify_key:
            if keys is not None:
                raise _not_held("the ledger's central bank", existing.address)
            # Another central bank's ledger: the ledger refuses the genesis, and
            # its journal keeps its signer.
            self._submit(lambda id_, seq: Genesis(id_, seq, name=name, code=self._code))
            return
        if ledger.journal is not None:
            # The registration centre is the central bank's: it signs the blocks.
            ledger.journal.attach_signer(self._key)
        if existing is None:
            self._submit(lambda id_, seq: Genesis(id_, seq, name=name, code=self._code))
        else:
            self._name, self._code = existing.name, existing.code

    @classmethod
    def restore(
        cls, ledger: Ledger, *, keys: KeyFile | None = None, seed: Seed = None
    ) -> CentralBank:
        """The central bank of a reopened ledger, ready to sign again; never a new genesis.

        Give the ``keys`` it was created with (or the simulation's ``seed``).
        Raises ``LEDGER_NOT_INITIALISED`` (a ``LookupError``) for a ledger
        without a central bank and ``KEY_NOT_HELD`` (a ``PermissionError``)
        when the key is not the ledger's central bank's.  Its name and code
        are the ledger's.
        """
        existing = ledger.central_bank
        if existing is None:
            raise UnknownPartyError(
                Reason.LEDGER_NOT_INITIALISED, "the ledger has no central bank to restore"
            )
        if seed is not None and keys is not None:
            raise _both_given()
        if keys is None and seed is None:
            raise _not_held("the ledger's central bank", existing.address)
        secret = keys.secret(CENTRAL_BANK_KEY_LABEL) if keys is not None else master_seed(seed)
        if SigningKey.derive(secret, "central-bank").verify_key != existing.key:
            raise _not_held("the ledger's central bank", existing.address)
        return cls(ledger, name=existing.name, code=existing.code, seed=seed, keys=keys)

    @property
    def name(self) -> str:
        """The central bank's name."""
        return self._name

    @property
    def code(self) -> InstitutionCode:
        """The central bank's institution code."""
        return self._code

    def _bank_seed(
        self, code: InstitutionCode, seed: Seed, keys: KeyFile | None, *, create: bool
    ) -> bytes:
        if seed is not None and keys is not None:
            raise _both_given()
        if keys is not None:
            return keys.secret(_bank_label(code), create=create)
        if seed is not None:
            return master_seed(seed)
        return derive_seed(self._seed, _bank_label(code))

    def _customer_path(
        self, code: InstitutionCode, customers: Customers, *, durable: bool
    ) -> Path | None:
        """The SQLite file for a bank's customer records; ``None``: a store given, or memory."""
        if isinstance(customers, (str, os.PathLike)):
            return Path(customers)
        ledger_file = _file_path(self._ledger)
        if customers is not None or not durable or ledger_file is None:
            return None
        return ledger_file.with_name(f"{ledger_file.stem}.{code}.customers.db")

    def _customer_store(
        self, code: InstitutionCode, customers: Customers, *, durable: bool
    ) -> CustomerStore:
        if customers is not None and not isinstance(customers, (str, os.PathLike)):
            return customers
        path = self._customer_path(code, customers, durable=durable)
        return MemoryCustomerStore() if path is None else SqliteCustomerStore(path)

    @staticmethod
    def _same_store(
        store: CustomerStore, customers: CustomerStore | str | os.PathLike[str]
    ) -> bool:
        if isinstance(customers, (str, os.PathLike)):
            return (
                isinstance(store, SqliteCustomerStore)
                and store.path.resolve() == Path(customers).resolve()
            )
        return store is customers

    def _durable(self, seed: Seed, keys: KeyFile | None) -> bool:
        # A bank's key outlives the process if it is in a key file: its own, or
        # derived from the central bank's secret in one.
        return keys is not None or (seed is None and self._keys is not None)

    def authorise_bank(
        self,
        name: str,
        *,
        code: str | InstitutionCode,
        reserves: Amount,
        seed: Seed = None,
        keys: KeyFile | None = None,
        customers: Customers = None,
    ) -> Bank:
        """Admit an operator that pledges ``reserves``; returns the bank, holding its key.

        The bank's key comes from its own ``keys`` (a secret generated and
        saved there under ``bank:<code>``), or a simulation's ``seed``, or
        else derives from this central bank's secret and the code.  Its
        customer records go to ``customers`` (a store, or the path of an
        SQLite file); by default, for a bank whose key is in a key file on a
        ledger kept in a file, to ``<ledger>.<code>.customers.db`` beside it,
        and otherwise to memory.
        """
        parsed = code if isinstance(code, InstitutionCode) else InstitutionCode.parse(code)
        bank_seed = self._bank_seed(parsed, seed, keys, create=True)
        key = SigningKey.derive(bank_seed, "bank")
        self._submit(
            lambda id_, seq: AuthoriseBank(
                id_, seq, bank_key=key.verify_key, name=name, code=parsed, reserves=reserves
            )
        )
        store = self._customer_store(parsed, customers, durable=self._durable(seed, keys))
        bank = Bank(self._ledger, key, name=name, code=parsed, seed=bank_seed, customers=store)
        self._banks[bank.address] = bank
        return bank

    def bank(
        self,
        which: str | InstitutionCode | Address,
        *,
        seed: Seed = None,
        keys: KeyFile | None = None,
        customers: Customers = None,
    ) -> Bank:
        """An authorised bank (by code, name or address), ready to sign again.

        Give the bank's ``keys`` (or ``seed``) if it was authorised with
        them; a bank whose key derives from this central bank's needs
        neither.  ``customers`` is as for :meth:`authorise_bank`, and the
        default is the same file.  The bank carries on its wallet counter and
        branch codes from its customer store, and settles the records of
        wallets whose opening a crash interrupted (:attr:`Bank.recovery`).
        This process gets the same :class:`Bank` object each time.

        Raises ``UNKNOWN_BANK`` for a bank the ledger does not have,
        ``KEY_NOT_HELD`` when the key is not the bank's, and
        ``FIELD_INVALID`` (field ``customers``) when a bank that has opened
        wallets would start an empty customer store.
        """
        info = self._ledger.bank(which)
        cached = self._banks.get(info.address)
        if cached is not None and seed is None and keys is None and customers is None:
            return cached
        bank_seed = self._bank_seed(info.code, seed, keys, create=False)
        key = SigningKey.derive(bank_seed, "bank")
        if key.address != info.address:
            raise _not_held(f"bank {info.code}", info.address)
        if cached is not None:
            if customers is not None and not self._same_store(cached.customers, customers):
                raise InvalidFieldError(
                    Reason.FIELD_INVALID,
                    f"{info.name} is attached already, to another customer store",
                    party=info.name,
                    field="customers",
                )
            return cached
        durable = self._durable(seed, keys)
        path = self._customer_path(info.code, customers, durable=durable)
        if path is not None and not path.exists() and info.wallet_count:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"no customer store at {path} for a bank that has opened "
                f"{info.wallet_count} wallets",
                party=info.name,
                field="customers",
            )
        store = self._customer_store(info.code, customers, durable=durable)
        bank = Bank(
            self._ledger, key, name=info.name, code=info.code, seed=bank_seed, customers=store
        )
        self._banks[bank.address] = bank
        return bank

    def appoint_regulator(
        self, name: str, *, seed: Seed = None, keys: KeyFile | None = None
    ) -> Regulator:
        """Appoint a supervisor that can freeze wallets and ask who holds them.

        Its key comes from ``keys`` (saved under ``regulator:<name>``), a
        simulation's ``seed``, or else derives from this central bank's
        secret and the name.
        """
        key = self._regulator_key(name, seed, keys, create=True)
        self._submit(
            lambda id_, seq: AppointRegulator(id_, seq, regulator_key=key.verify_key, name=name)
        )
        return Regulator(self._ledger, key, name=name)

    def regulator(self, name: str, *, seed: Seed = None, keys: KeyFile | None = None) -> Regulator:
        """An appointed regulator, ready to sign again (after a restart, say).

        Give the ``keys`` or ``seed`` it was appointed with, if any.  Raises
        ``KEY_NOT_HELD`` when the key is not an appointed regulator's.
        """
        key = self._regulator_key(name, seed, keys, create=False)
        try:
            self._ledger.regulator_key(key.address)
        except UnknownPartyError:
            raise _not_held(f"regulator {name}", key.address) from None
        return Regulator(self._ledger, key, name=name)

    def _regulator_key(
        self, name: str, seed: Seed, keys: KeyFile | None, *, create: bool
    ) -> SigningKey:
        if seed is not None and keys is not None:
            raise _both_given()
        if keys is not None:
            regulator_seed = keys.secret(_regulator_label(name), create=create)
        elif seed is not None:
            regulator_seed = master_seed(seed)
        else:
            regulator_seed = derive_seed(self._seed, _regulator_label(name))
        return SigningKey.derive(regulator_seed, "regulator")

    def issue(self, bank: Bank | Address, amount: Amount) -> Receipt:
        """Issue ``amount`` of e-CNY into ``bank``'s vault against its reserves."""
        address = bank.address if isinstance(bank, Bank) else bank
        return self._submit(lambda id_, seq: Issue(id_, seq, bank=address, amount=amount))

    def __repr__(self) -> str:
        return f"<CentralBank {self._name} {self._code}>"
