"""The instructions parties sign and the ledger applies: a closed set of records.

Each kind is one frozen record that declares its wire layout (``WIRE``) and
validates its own fields, so an out-of-range instruction cannot even be
built, and adding a kind is adding a record, its layout and its handler —
never editing a long ``if`` chain.  Every record carries the id the client
chose (for idempotent retries) and the signer's per-key sequence number (so
that a replay or a reordering is refused).

Who may sign what is part of the meaning of each record and is written in
its docstring; the ledger enforces it.

Two dozen records of about twenty lines each make this module longer than
400 lines; it stays one module because the set is closed, and reading it
whole is how a reviewer checks that it is.
"""

from __future__ import annotations

import enum
import re
from typing import Any, ClassVar, Final, final

import attrs

from dcep.errors import InvalidFieldError, Reason
from dcep.instructions import _wire as wire
from dcep.instructions._conditions import (
    APPROVALS,
    CONDITIONS,
    LATEST_TIME_US,
    MAX_CONDITIONS,
    MAX_PREIMAGE_BYTES,
    Approval,
    ApprovedBy,
    Condition,
    HashLock,
    NotBefore,
)
from dcep.instructions._offline import MAX_COUNTER, TOKEN, OfflineToken
from dcep.instructions._scopes import MAX_SCOPE, MERCHANTS, REGIONS
from dcep.values._codes import InstitutionCode
from dcep.values._crypto import Address, VerifyKey
from dcep.values._money import Amount
from dcep.values._policy import WalletCategory

__all__ = [
    "KIND_RECORDS",
    "NEW_KEY_FIELDS",
    "SWEEP_OFF",
    "AccrueInterest",
    "AppointRegulator",
    "AuthoriseBank",
    "ChangeCategory",
    "CloseSubWallet",
    "CloseWallet",
    "CollectFromSubWallet",
    "Defund",
    "Disclosure",
    "Freeze",
    "Fund",
    "Genesis",
    "Instruction",
    "InstructionKind",
    "Issue",
    "IssueVoucher",
    "LinkBatch",
    "LoadOffline",
    "OpenCorporateWallet",
    "OpenSubWallet",
    "OpenWallet",
    "PayIn",
    "PayPending",
    "PostPending",
    "Redeem",
    "RegisterDevice",
    "SetDailySweep",
    "SettleOffline",
    "SpendVoucher",
    "TopUpSubWallet",
    "Transfer",
    "Unfreeze",
    "UnloadOffline",
    "VoidPending",
    "Warrant",
]

MAX_ID: Final = 2**128 - 1
MAX_SEQUENCE: Final = 2**64 - 1
MAX_NAME_BYTES: Final = 64
MAX_MEMO_BYTES: Final = 140
MAX_ACCOUNT_CHARS: Final = 34  # the longest IBAN
_ACCOUNT: Final = re.compile(r"[A-Za-z0-9-]*")


@enum.unique
class InstructionKind(enum.IntEnum):
    """Instruction kinds; the number is the wire tag and never changes."""

    GENESIS = 1
    AUTHORISE_BANK = 2
    ISSUE = 3
    REDEEM = 4
    PAY_IN = 5
    OPEN_WALLET = 6
    FUND = 7
    DEFUND = 8
    TRANSFER = 9
    APPOINT_REGULATOR = 10
    FREEZE = 11
    UNFREEZE = 12
    WARRANT = 13
    DISCLOSURE = 14
    OPEN_SUB_WALLET = 15
    TOP_UP_SUB_WALLET = 16
    COLLECT_FROM_SUB_WALLET = 17
    CLOSE_SUB_WALLET = 18
    CHANGE_CATEGORY = 19
    CLOSE_WALLET = 20
    PAY_PENDING = 21
    POST_PENDING = 22
    VOID_PENDING = 23
    LINK_BATCH = 24
    ISSUE_VOUCHER = 25
    SPEND_VOUCHER = 26
    ACCRUE_INTEREST = 27
    OPEN_CORPORATE_WALLET = 28
    SET_DAILY_SWEEP = 29
    # 28 and 29 are corporate wallets'.
    REGISTER_DEVICE = 30
    LOAD_OFFLINE = 31
    SETTLE_OFFLINE = 32
    UNLOAD_OFFLINE = 33


def _invalid(field: str, message: str) -> InvalidFieldError:
    return InvalidFieldError(Reason.FIELD_INVALID, message, field=field)


def _check_id(_instance: object, _attribute: object, value: int) -> None:
    if type(value) is not int or not 1 <= value <= MAX_ID:
        raise _invalid("id", f"an instruction id is an int from 1 to 2**128-1, not {value!r}")


def _check_sequence(_instance: object, _attribute: object, value: int) -> None:
    if type(value) is not int or not 1 <= value <= MAX_SEQUENCE:
        raise _invalid("sequence", f"a sequence number is an int from 1 to 2**64-1, not {value!r}")


def _check_amount(_instance: object, attribute: attrs.Attribute[Amount], value: object) -> None:
    if not isinstance(value, Amount):
        raise _invalid(attribute.name, f"{attribute.name} must be an Amount, not {value!r}")
    value.require_positive(field=attribute.name)


def _check_type(kind: type) -> Any:
    # attrs' instance_of raises a bare TypeError; every refusal here is a DcepError.
    def check(_instance: object, attribute: attrs.Attribute[object], value: object) -> None:
        if not isinstance(value, kind):
            raise _invalid(
                attribute.name,
                f"{attribute.name} must be a {kind.__name__}, not {type(value).__name__}",
            )

    return check


def _new_key_check(_instance: object, attribute: attrs.Attribute[object], value: object) -> None:
    # A key the ledger binds (a bank's, a wallet's, a device's) must be one
    # that can sign: see VerifyKey.is_valid_point.
    if not isinstance(value, VerifyKey):
        raise _invalid(
            attribute.name,
            f"{attribute.name} must be a VerifyKey, not {type(value).__name__}",
        )
    if not value.is_valid_point():
        raise _invalid(attribute.name, f"{attribute.name} is not a valid Ed25519 public key")


_check_new_key: Any = _new_key_check


def _text_validator(max_bytes: int, *, allow_empty: bool) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
        if not isinstance(value, str):
            raise _invalid(attribute.name, f"{attribute.name} must be a str")
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:
            raise _invalid(attribute.name, f"{attribute.name} is not valid Unicode") from None
        if size > max_bytes or (size == 0 and not allow_empty):
            raise _invalid(
                attribute.name,
                f"{attribute.name} must be {'0' if allow_empty else '1'} to {max_bytes} "
                f"bytes of UTF-8, not {size}",
            )

    return check


def _check_account(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if (
        not isinstance(value, str)
        or len(value) > MAX_ACCOUNT_CHARS
        or not _ACCOUNT.fullmatch(value)
    ):
        raise _invalid(
            attribute.name,
            f"{attribute.name} is up to {MAX_ACCOUNT_CHARS} ASCII letters, digits and "
            f"hyphens, not {value!r}",
        )


def _check_digest(_instance: object, attribute: attrs.Attribute[bytes], value: object) -> None:
    if not isinstance(value, bytes) or len(value) != 32:
        raise _invalid(attribute.name, f"{attribute.name} must be 32 bytes")


def _check_counter(_instance: object, _attribute: object, value: int) -> None:
    if type(value) is not int or not 0 <= value <= MAX_COUNTER:
        raise _invalid("counter", f"a device counter is an int from 0 to 2**63-1, not {value!r}")


def _to_category(value: int) -> WalletCategory:
    return WalletCategory.of(value)


_NAME = _text_validator(MAX_NAME_BYTES, allow_empty=False)
_MEMO = _text_validator(MAX_MEMO_BYTES, allow_empty=True)


@attrs.frozen
class Instruction:
    """What every instruction has: the client's id and the signer's sequence."""

    KIND: ClassVar[InstructionKind]
    #: The fields after ``id`` and ``sequence``, in wire order, with codecs.
    WIRE: ClassVar[tuple[tuple[str, wire.Codec[Any]], ...]]

    id: int = attrs.field(validator=_check_id)
    sequence: int = attrs.field(validator=_check_sequence)


@final
@attrs.frozen
class Genesis(Instruction):
    """The central bank declares itself; signed by its own key, once per ledger."""

    KIND = InstructionKind.GENESIS
    WIRE = (("name", wire.TEXT), ("code", wire.CODE))

    name: str = attrs.field(validator=_NAME)
    code: InstitutionCode = attrs.field(validator=_check_type(InstitutionCode))


@final
@attrs.frozen
class AuthoriseBank(Instruction):
    """The central bank admits an operator that pledges ``reserves``."""

    KIND = InstructionKind.AUTHORISE_BANK
    WIRE = (
        ("bank_key", wire.KEY),
        ("name", wire.TEXT),
        ("code", wire.CODE),
        ("reserves", wire.AMOUNT),
    )

    bank_key: VerifyKey = attrs.field(validator=_check_new_key)
    name: str = attrs.field(validator=_NAME)
    code: InstitutionCode = attrs.field(validator=_check_type(InstitutionCode))
    reserves: Amount = attrs.field(validator=_check_amount)


@final
@attrs.frozen
class Issue(Instruction):
    """The central bank issues e-CNY into ``bank``'s vault against its reserves."""

    KIND = InstructionKind.ISSUE
    WIRE = (("bank", wire.ADDRESS), ("amount", wire.AMOUNT))

    bank: Address = attrs.field(validator=_check_type(Address))
    amount: Amount = attrs.field(validator=_check_amount)


@final
@attrs.frozen
class Redeem(Instruction):
    """A bank returns e-CNY from its vault and gets its reserves back; signed by the bank."""

    KIND = InstructionKind.REDEEM
    WIRE = (("amount", wire.AMOUNT),)

    amount: Amount = attrs.field(validator=_check_amount)


@final
@attrs.frozen
class PayIn(Instruction):
    """A customer pays commercial-bank money into a deposit account; signed by the bank."""

    KIND = InstructionKind.PAY_IN
    WIRE = (("account", wire.TEXT), ("amount", wire.AMOUNT))

    account: str = attrs.field(validator=_check_account)
    amount: Amount = attrs.field(validator=_check_amount)


@final
@attrs.frozen
class OpenWallet(Instruction):
    """A bank opens a wallet for ``wallet_key``; signed by the bank, which will operate it.

    The ledger learns the key, the category and the linked deposit account
    (``""`` for none), never who the holder is: ``kyc_digest`` commits to the
    identity record the bank keeps, so that a later disclosure can be checked.
    """

    KIND = InstructionKind.OPEN_WALLET
    WIRE = (
        ("wallet_key", wire.KEY),
        ("category", wire.CATEGORY),
        ("linked_account", wire.TEXT),
        ("kyc_digest", wire.DIGEST),
    )

    wallet_key: VerifyKey = attrs.field(validator=_check_new_key)
    category: WalletCategory = attrs.field(converter=_to_category)
    linked_account: str = attrs.field(validator=_check_account)
    kyc_digest: bytes = attrs.field(validator=_check_digest)


@final
@attrs.frozen
class Fund(Instruction):
    """A bank moves e-CNY from its vault into a wallet it operates.

    The customer pays from deposit account ``from_account``, or at the counter
    (``""``), which the bank's books record as cash received.
    """

    KIND = InstructionKind.FUND
    WIRE = (("wallet", wire.ADDRESS), ("amount", wire.AMOUNT), ("from_account", wire.TEXT))

    wallet: Address = attrs.field(validator=_check_type(Address))
    amount: Amount = attrs.field(validator=_check_amount)
    from_account: str = attrs.field(validator=_check_account)


@final
@attrs.frozen
class Defund(Instruction):
    """A wallet returns e-CNY to its bank, credited to a deposit account; signed by the wallet.

    ``to_account`` ``""`` means the wallet's linked account.  Signed by the
    wallet's operating bank instead, it is the day's sweep of a corporate
    wallet (see :class:`SetDailySweep`): accepted only once its time has
    come, once a local day, into the linked account, for exactly the
    balance above what the sweep keeps.
    """

    KIND = InstructionKind.DEFUND
    WIRE = (("wallet", wire.ADDRESS), ("amount", wire.AMOUNT), ("to_account", wire.TEXT))

    wallet: Address = attrs.field(validator=_check_type(Address))
    amount: Amount = attrs.field(validator=_check_amount)
    to_account: str = attrs.field(validator=_check_account)


@final
@attrs.frozen
class Transfer(Instruction):
    """A wallet pays another wallet; signed by the payer's key."""

    KIND = InstructionKind.TRANSFER
    WIRE = (
        ("payer", wire.ADDRESS),
        ("payee", wire.ADDRESS),
        ("amount", wire.AMOUNT),
        ("memo", wire.TEXT),
    )

    payer: Address = attrs.field(validator=_check_type(Address))
    payee: Address = attrs.field(validator=_check_type(Address))
    amount: Amount = attrs.field(validator=_check_amount)
    memo: str = attrs.field(default="", validator=_MEMO)

    def __attrs_post_init__(self) -> None:
        if self.payer == self.payee:
            raise InvalidFieldError(
                Reason.SELF_PAYMENT, "a wallet cannot pay itself", field="payee"
            )


MAX_SEALED_BYTES: Final = 4096


def _check_sealed(_instance: object, attribute: attrs.Attribute[bytes], value: object) -> None:
    if not isinstance(value, bytes) or not 0 < len(value) <= MAX_SEALED_BYTES:
        raise _invalid(attribute.name, f"{attribute.name} is 1 to {MAX_SEALED_BYTES} bytes")


@final
@attrs.frozen
class AppointRegulator(Instruction):
    """The central bank names a supervisor's key: it may freeze wallets and ask for identities."""

    KIND = InstructionKind.APPOINT_REGULATOR
    WIRE = (("regulator_key", wire.KEY), ("name", wire.TEXT))

    regulator_key: VerifyKey = attrs.field(validator=_check_new_key)
    name: str = attrs.field(validator=_NAME)


@attrs.frozen
class _WalletOrder(Instruction):
    """What freeze, unfreeze and warrant orders share: a wallet and the reason."""

    WIRE = (("wallet", wire.ADDRESS), ("reason", wire.TEXT))

    wallet: Address = attrs.field(validator=_check_type(Address))
    reason: str = attrs.field(validator=_NAME)


@final
@attrs.frozen
class Freeze(_WalletOrder):
    """A regulator stops ``wallet`` paying out; payments to it still settle."""

    KIND = InstructionKind.FREEZE


@final
@attrs.frozen
class Unfreeze(_WalletOrder):
    """A regulator lifts its freeze of ``wallet``."""

    KIND = InstructionKind.UNFREEZE


@final
@attrs.frozen
class Warrant(_WalletOrder):
    """A regulator asks the operator of ``wallet`` who holds it, saying why.

    Journalled, so every unmasking is on the record and can be counted.
    """

    KIND = InstructionKind.WARRANT


@final
@attrs.frozen
class Disclosure(Instruction):
    """The operating bank answers a warrant; signed by the bank.

    ``sealed`` is the holder's identity record encrypted to the regulator's
    key (only the regulator can read it, anyone can count it); ``regulator``
    and ``warrant_id`` name the warrant answered.
    """

    KIND = InstructionKind.DISCLOSURE
    WIRE = (
        ("regulator", wire.ADDRESS),
        ("warrant_id", wire.U128),
        ("wallet", wire.ADDRESS),
        ("sealed", wire.BLOB),
    )

    regulator: Address = attrs.field(validator=_check_type(Address))
    warrant_id: int = attrs.field(validator=_check_id)
    wallet: Address = attrs.field(validator=_check_type(Address))
    sealed: bytes = attrs.field(validator=_check_sealed, repr=False)


def _check_cap(_instance: object, attribute: attrs.Attribute[Amount], value: object) -> None:
    # Zero is allowed here, and means "no cap of its own": the parent's applies.
    if not isinstance(value, Amount):
        raise _invalid(attribute.name, f"{attribute.name} must be an Amount, not {value!r}")


@final
@attrs.frozen
class OpenSubWallet(Instruction):
    """A wallet opens a sub-wallet for ``sub_wallet_key``; signed by the parent wallet.

    The sub-wallet has the parent's category, operator and linked account,
    and caps of its own that are at most the parent's (``Amount(0)``: the
    parent's cap).  Its payments count toward the parent's daily and annual
    caps too, and parent and sub-wallets together stay within the parent's
    balance cap.  Parent and child are linked on the ledger; the holder of
    either is not.
    """

    KIND = InstructionKind.OPEN_SUB_WALLET
    WIRE = (
        ("parent", wire.ADDRESS),
        ("sub_wallet_key", wire.KEY),
        ("balance_cap", wire.AMOUNT),
        ("single_payment_cap", wire.AMOUNT),
        ("daily_cap", wire.AMOUNT),
        ("annual_cap", wire.AMOUNT),
    )

    parent: Address = attrs.field(validator=_check_type(Address))
    sub_wallet_key: VerifyKey = attrs.field(validator=_check_new_key)
    balance_cap: Amount = attrs.field(validator=_check_cap)
    single_payment_cap: Amount = attrs.field(validator=_check_cap)
    daily_cap: Amount = attrs.field(validator=_check_cap)
    annual_cap: Amount = attrs.field(validator=_check_cap)


@attrs.frozen
class _SubWalletMove(Instruction):
    """What moves between a parent wallet and its sub-wallet share: both, and the amount."""

    WIRE = (("parent", wire.ADDRESS), ("sub_wallet", wire.ADDRESS), ("amount", wire.AMOUNT))

    parent: Address = attrs.field(validator=_check_type(Address))
    sub_wallet: Address = attrs.field(validator=_check_type(Address))
    amount: Amount = attrs.field(validator=_check_amount)


@final
@attrs.frozen
class TopUpSubWallet(_SubWalletMove):
    """A parent wallet moves ``amount`` into its sub-wallet; signed by the parent.

    Not a payment: it counts toward no payment cap, only the sub-wallet's balance cap.
    """

    KIND = InstructionKind.TOP_UP_SUB_WALLET


@final
@attrs.frozen
class CollectFromSubWallet(_SubWalletMove):
    """A parent wallet takes ``amount`` back from its sub-wallet; signed by the parent."""

    KIND = InstructionKind.COLLECT_FROM_SUB_WALLET


@final
@attrs.frozen
class CloseSubWallet(Instruction):
    """A parent wallet closes its sub-wallet; whatever it holds returns to the parent."""

    KIND = InstructionKind.CLOSE_SUB_WALLET
    WIRE = (("parent", wire.ADDRESS), ("sub_wallet", wire.ADDRESS))

    parent: Address = attrs.field(validator=_check_type(Address))
    sub_wallet: Address = attrs.field(validator=_check_type(Address))


@final
@attrs.frozen
class ChangeCategory(Instruction):
    """The operating bank moves a wallet to another category; signed by the bank.

    An upgrade follows more KYC, which ``kyc_digest`` commits to; any change
    is refused unless the balance, today's and this year's payments fit the
    new category's caps.  ``linked_account`` replaces the wallet's (``""``: none).
    """

    KIND = InstructionKind.CHANGE_CATEGORY
    WIRE = (
        ("wallet", wire.ADDRESS),
        ("category", wire.CATEGORY),
        ("linked_account", wire.TEXT),
        ("kyc_digest", wire.DIGEST),
    )

    wallet: Address = attrs.field(validator=_check_type(Address))
    category: WalletCategory = attrs.field(converter=_to_category)
    linked_account: str = attrs.field(validator=_check_account)
    kyc_digest: bytes = attrs.field(validator=_check_digest)


@final
@attrs.frozen
class CloseWallet(Instruction):
    """The operating bank closes a wallet; its balance goes to deposit ``to_account``.

    ``to_account`` ``""`` means the linked account.  A closed wallet holds
    nothing, receives nothing and signs nothing again.
    """

    KIND = InstructionKind.CLOSE_WALLET
    WIRE = (("wallet", wire.ADDRESS), ("to_account", wire.TEXT))

    wallet: Address = attrs.field(validator=_check_type(Address))
    to_account: str = attrs.field(validator=_check_account)


def _check_conditions(_instance: object, _attribute: object, value: object) -> None:
    if (
        not isinstance(value, tuple)
        or len(value) > MAX_CONDITIONS
        or not all(isinstance(c, NotBefore | ApprovedBy | HashLock) for c in value)
    ):
        raise _invalid("conditions", f"conditions are a tuple of up to {MAX_CONDITIONS} records")


def _check_expiry(_instance: object, _attribute: object, value: int) -> None:
    if type(value) is not int or not 1 <= value <= LATEST_TIME_US:
        raise _invalid("expires_at_us", f"expires_at_us is microseconds from 1970, not {value!r}")


def _check_preimage(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, bytes) or len(value) > MAX_PREIMAGE_BYTES:
        raise _invalid("preimage", f"a preimage is 0 to {MAX_PREIMAGE_BYTES} bytes")


def _check_approvals(_instance: object, _attribute: object, value: object) -> None:
    if (
        not isinstance(value, tuple)
        or len(value) > 255
        or not all(isinstance(a, Approval) for a in value)
    ):
        raise _invalid("approvals", "approvals are a tuple of up to 255 Approval records")


def _to_tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@final
@attrs.frozen
class PayPending(Instruction):
    """A wallet reserves ``amount`` for ``payee``, the first phase of a payment; signed by it.

    The money stays in the payer's holdings (and under its balance cap) but
    neither side can spend it.  It is then posted (whole or in part; the rest
    returns to the payer), voided by the payee, or it expires at
    ``expires_at_us`` by the ledger's clock, with no one asking: whichever
    comes first, exactly once.  Posting needs every one of ``conditions``.
    The payer's payment caps count the whole amount now, as a payment.  The
    instruction's ``id`` names the pending payment, with the payer.
    """

    KIND = InstructionKind.PAY_PENDING
    WIRE = (
        ("payer", wire.ADDRESS),
        ("payee", wire.ADDRESS),
        ("amount", wire.AMOUNT),
        ("expires_at_us", wire.U64),
        ("conditions", CONDITIONS),
        ("memo", wire.TEXT),
    )

    payer: Address = attrs.field(validator=_check_type(Address))
    payee: Address = attrs.field(validator=_check_type(Address))
    amount: Amount = attrs.field(validator=_check_amount)
    expires_at_us: int = attrs.field(validator=_check_expiry)
    conditions: tuple[Condition, ...] = attrs.field(
        default=(), converter=_to_tuple, validator=_check_conditions
    )
    memo: str = attrs.field(default="", validator=_MEMO)

    def __attrs_post_init__(self) -> None:
        if self.payer == self.payee:
            raise InvalidFieldError(
                Reason.SELF_PAYMENT, "a wallet cannot pay itself", field="payee"
            )


@final
@attrs.frozen
class PostPending(Instruction):
    """Release ``amount`` of pending payment ``pending_id`` of ``payer`` to its payee.

    Signed by the payer or the payee; either way every condition of the
    pending payment must hold (``preimage`` opens a hash lock, ``approvals``
    satisfy an approval rule).  What is not posted returns to the payer.
    """

    KIND = InstructionKind.POST_PENDING
    WIRE = (
        ("payer", wire.ADDRESS),
        ("pending_id", wire.U128),
        ("amount", wire.AMOUNT),
        ("preimage", wire.BLOB),
        ("approvals", APPROVALS),
    )

    payer: Address = attrs.field(validator=_check_type(Address))
    pending_id: int = attrs.field(validator=_check_id)
    amount: Amount = attrs.field(validator=_check_amount)
    preimage: bytes = attrs.field(default=b"", validator=_check_preimage, repr=False)
    approvals: tuple[Approval, ...] = attrs.field(
        default=(), converter=_to_tuple, validator=_check_approvals
    )


@final
@attrs.frozen
class VoidPending(Instruction):
    """The payee declines pending payment ``pending_id`` of ``payer``: all of it returns.

    Signed by the payee.  The payer cannot void: the payee is promised the
    money until it expires.
    """

    KIND = InstructionKind.VOID_PENDING
    WIRE = (("payer", wire.ADDRESS), ("pending_id", wire.U128))

    payer: Address = attrs.field(validator=_check_type(Address))
    pending_id: int = attrs.field(validator=_check_id)


MAX_LINKED: Final = 1000


def _check_members(_instance: object, _attribute: object, value: int) -> None:
    if type(value) is not int or not 1 <= value <= MAX_LINKED:
        raise _invalid("members", f"a linked batch has 1 to {MAX_LINKED} members, not {value!r}")


@final
@attrs.frozen
class LinkBatch(Instruction):
    """The next ``members`` entries are one linked batch: all of them are accepted, or none.

    ``digest`` commits to the members' envelopes in order (see
    :func:`dcep.instructions.linked_digest`), so the ledger, and every replay,
    refuses anything else in their place.  Signed by a signer of one of the
    members, who submits the batch.
    """

    KIND = InstructionKind.LINK_BATCH
    WIRE = (("members", wire.U64), ("digest", wire.DIGEST))

    members: int = attrs.field(validator=_check_members)
    digest: bytes = attrs.field(validator=_check_digest)


def _check_regions(_instance: object, _attribute: object, value: object) -> None:
    if (
        not isinstance(value, tuple)
        or len(value) > MAX_SCOPE
        or not all(isinstance(code, InstitutionCode) for code in value)
    ):
        raise _invalid("regions", f"regions are a tuple of up to {MAX_SCOPE} institution codes")


def _check_merchants(_instance: object, _attribute: object, value: object) -> None:
    if (
        not isinstance(value, tuple)
        or len(value) > MAX_SCOPE
        or not all(isinstance(address, Address) for address in value)
    ):
        raise _invalid("merchants", f"merchants are a tuple of up to {MAX_SCOPE} addresses")


@final
@attrs.frozen
class IssueVoucher(Instruction):
    """An issuer's wallet sets ``amount`` aside for ``holder``, to spend for a purpose only.

    Signed by the issuer (a city's wallet, a bank's).  The holder may pay it
    only to a wallet in ``merchants`` or operated by a bank whose code is one
    of ``regions`` or under one (at least one of the two is given), and only
    before ``expires_at_us``; what is left then is the issuer's again, with
    no one asking.  Until spent the money stays in the issuer's holdings:
    it is never ordinary money in the holder's hands.  Issuing and spending
    count toward no payment cap; the issuer's balance cap counts the money
    it set aside.  The instruction's ``id`` names the voucher, with the issuer.
    """

    KIND = InstructionKind.ISSUE_VOUCHER
    WIRE = (
        ("issuer", wire.ADDRESS),
        ("holder", wire.ADDRESS),
        ("amount", wire.AMOUNT),
        ("expires_at_us", wire.U64),
        ("regions", REGIONS),
        ("merchants", MERCHANTS),
        ("memo", wire.TEXT),
    )

    issuer: Address = attrs.field(validator=_check_type(Address))
    holder: Address = attrs.field(validator=_check_type(Address))
    amount: Amount = attrs.field(validator=_check_amount)
    expires_at_us: int = attrs.field(validator=_check_expiry)
    regions: tuple[InstitutionCode, ...] = attrs.field(
        default=(), converter=_to_tuple, validator=_check_regions
    )
    merchants: tuple[Address, ...] = attrs.field(
        default=(), converter=_to_tuple, validator=_check_merchants
    )
    memo: str = attrs.field(default="", validator=_MEMO)

    def __attrs_post_init__(self) -> None:
        if self.issuer == self.holder:
            raise InvalidFieldError(
                Reason.SELF_PAYMENT, "an issuer cannot hold its own voucher", field="holder"
            )
        if not self.regions and not self.merchants:
            raise _invalid("regions", "a voucher names regions or merchants it may be spent at")


@final
@attrs.frozen
class SpendVoucher(Instruction):
    """The holder pays ``amount`` of voucher ``voucher_id`` of ``issuer`` to ``payee``.

    Signed by the holder; ``payee`` must be one of the voucher's merchants,
    or in one of its regions, and receives ordinary money.
    """

    KIND = InstructionKind.SPEND_VOUCHER
    WIRE = (
        ("issuer", wire.ADDRESS),
        ("voucher_id", wire.U128),
        ("payee", wire.ADDRESS),
        ("amount", wire.AMOUNT),
    )

    issuer: Address = attrs.field(validator=_check_type(Address))
    voucher_id: int = attrs.field(validator=_check_id)
    payee: Address = attrs.field(validator=_check_type(Address))
    amount: Amount = attrs.field(validator=_check_amount)

    def __attrs_post_init__(self) -> None:
        if self.payee == self.issuer:
            raise InvalidFieldError(
                Reason.SELF_PAYMENT, "a voucher cannot pay its own issuer", field="payee"
            )


@final
@attrs.frozen
class AccrueInterest(Instruction):
    """The operating bank pays a wallet the interest accrued since its last accrual.

    Only in the 2026 reserve mode with an interest rate, and only by a bank
    (not a payment institution); the ledger works out the amount from its
    clock (see ``docs/concepts/reserves.md``).  A wallet's first accrual
    starts its interest period and pays nothing.
    """

    KIND = InstructionKind.ACCRUE_INTEREST
    WIRE = (("wallet", wire.ADDRESS),)

    wallet: Address = attrs.field(validator=_check_type(Address))


@final
@attrs.frozen
class RegisterDevice(Instruction):
    """A wallet binds a hardware wallet's key ``device_key`` to itself; signed by the wallet.

    The device (a card, a SIM, a wearable) signs offline payments with its
    own key, from an allowance the wallet loads onto it
    (:class:`LoadOffline`); the key belongs to no other party or device.
    """

    KIND = InstructionKind.REGISTER_DEVICE
    WIRE = (("wallet", wire.ADDRESS), ("device_key", wire.KEY))

    wallet: Address = attrs.field(validator=_check_type(Address))
    device_key: VerifyKey = attrs.field(validator=_check_new_key)


@final
@attrs.frozen
class LoadOffline(Instruction):
    """A wallet moves ``amount`` of its balance into ``device``'s offline allowance.

    Signed by the wallet, while the device is online: ``counter`` is the
    device's last counter, and its next ``Policy.offline_payment_count``
    counters are the ones the ledger will settle.  The allowance stays in
    the wallet's holdings (and under its balance cap) but only the device's
    offline tokens spend it, up to the policy's offline total cap.  Not a
    payment: it counts toward no payment cap.
    """

    KIND = InstructionKind.LOAD_OFFLINE
    WIRE = (
        ("wallet", wire.ADDRESS),
        ("device", wire.ADDRESS),
        ("amount", wire.AMOUNT),
        ("counter", wire.U64),
    )

    wallet: Address = attrs.field(validator=_check_type(Address))
    device: Address = attrs.field(validator=_check_type(Address))
    amount: Amount = attrs.field(validator=_check_amount)
    counter: int = attrs.field(validator=_check_counter)


@final
@attrs.frozen
class SettleOffline(Instruction):
    """Settle one offline payment ``token``; signed by its payer's wallet or its payee.

    Whichever side comes online first submits it; the second submission of
    the same token settles nothing.  A token whose counter was settled
    before with other contents proves a cloned device: the device is
    blocked, the payee is paid what the allowance has left, and the rest is
    booked as the device's loss (see ``docs/offline.md``).
    """

    KIND = InstructionKind.SETTLE_OFFLINE
    WIRE = (("token", TOKEN),)

    token: OfflineToken = attrs.field(validator=_check_type(OfflineToken))


@final
@attrs.frozen
class UnloadOffline(Instruction):
    """A wallet takes ``amount`` of ``device``'s allowance back into its balance.

    Signed by the wallet, with the device online: ``counter`` is the
    device's last counter, and every one of its tokens up to it must be
    settled (and none above it), so no token already handed over is left
    without the money it was promised.
    """

    KIND = InstructionKind.UNLOAD_OFFLINE
    WIRE = (
        ("wallet", wire.ADDRESS),
        ("device", wire.ADDRESS),
        ("amount", wire.AMOUNT),
        ("counter", wire.U64),
    )

    wallet: Address = attrs.field(validator=_check_type(Address))
    device: Address = attrs.field(validator=_check_type(Address))
    amount: Amount = attrs.field(validator=_check_amount)
    counter: int = attrs.field(validator=_check_counter)


@final
@attrs.frozen
class OpenCorporateWallet(Instruction):
    """A bank opens a wallet owned by a business; signed by the bank, which will operate it.

    Like :class:`OpenWallet`, but for a business: its caps are the policy's
    corporate limits (:attr:`~dcep.Policy.corporate`), not a personal
    category's, and ``kyc_digest`` commits to the bank's record of the
    business (its registration: a unified social credit code or business
    licence number).  The ledger learns only that the wallet is corporate.
    ``linked_account`` is the business's deposit account (``""``: none, if
    the policy allows it), which daily sweeps go to.
    """

    KIND = InstructionKind.OPEN_CORPORATE_WALLET
    WIRE = (
        ("wallet_key", wire.KEY),
        ("linked_account", wire.TEXT),
        ("kyc_digest", wire.DIGEST),
    )

    wallet_key: VerifyKey = attrs.field(validator=_check_new_key)
    linked_account: str = attrs.field(validator=_check_account)
    kyc_digest: bytes = attrs.field(validator=_check_digest)


#: Minutes in a day; as :attr:`SetDailySweep.at_minute` it stops the sweep.
SWEEP_OFF: Final = 24 * 60


def _check_minute(_instance: object, _attribute: object, value: int) -> None:
    if type(value) is not int or not 0 <= value <= SWEEP_OFF:
        raise _invalid(
            "at_minute",
            f"at_minute is a local minute of the day, 0 to 1439, or {SWEEP_OFF} for none, "
            f"not {value!r}",
        )


@final
@attrs.frozen
class SetDailySweep(Instruction):
    """Sweep a corporate wallet to its linked deposit account each day at ``at_minute``.

    ``at_minute`` is the local minute of the day (the policy's time zone,
    ``18 * 60`` for 18:00); :data:`SWEEP_OFF` stops the sweep.  Each sweep
    leaves ``keep`` in the wallet.  Signed by the wallet or its operating
    bank.  The sweeps themselves are :class:`Defund` instructions signed by
    the operating bank, which the ledger accepts at or after that minute,
    once a local day, for exactly the balance above ``keep``.
    """

    KIND = InstructionKind.SET_DAILY_SWEEP
    WIRE = (("wallet", wire.ADDRESS), ("at_minute", wire.U64), ("keep", wire.AMOUNT))

    wallet: Address = attrs.field(validator=_check_type(Address))
    at_minute: int = attrs.field(validator=_check_minute)
    keep: Amount = attrs.field(factory=lambda: Amount(0), validator=_check_cap)


#: Every kind's record; the closed set the decoder accepts.
KIND_RECORDS: Final[dict[InstructionKind, type[Instruction]]] = {
    record.KIND: record
    for record in (
        Genesis,
        AuthoriseBank,
        Issue,
        Redeem,
        PayIn,
        OpenWallet,
        Fund,
        Defund,
        Transfer,
        AppointRegulator,
        Freeze,
        Unfreeze,
        Warrant,
        Disclosure,
        OpenSubWallet,
        TopUpSubWallet,
        CollectFromSubWallet,
        CloseSubWallet,
        ChangeCategory,
        CloseWallet,
        PayPending,
        PostPending,
        VoidPending,
        LinkBatch,
        IssueVoucher,
        SpendVoucher,
        AccrueInterest,
        OpenCorporateWallet,
        SetDailySweep,
        RegisterDevice,
        LoadOffline,
        SettleOffline,
        UnloadOffline,
    )
}

#: The fields of each kind that bind a new public key, each checked with
#: ``VerifyKey.is_valid_point`` (about 40 µs) when the record is made; the
#: kinds that bind none are left out.  Sentinel workers use it to take that
#: check off a replaying sequencer (see ``SentinelPool.paired_chunks``).
NEW_KEY_FIELDS: Final[dict[InstructionKind, tuple[str, ...]]] = {
    kind: names
    for kind, record in KIND_RECORDS.items()
    if (
        names := tuple(
            field.name for field in attrs.fields(record) if field.validator is _check_new_key
        )
    )
}
