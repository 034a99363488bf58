"""One error hierarchy for everything dcep refuses.

Every error is a :class:`DcepError` and also the builtin a caller would
naturally catch (``ValueError`` for bad values, ``PermissionError`` for a
signer without the right, ``LookupError`` for an unknown party), in the manner
of attrs' ``FrozenError(AttributeError)``.  Each carries one :class:`Reason`
from a closed enum so that programs can switch on it, as TigerBeetle's result
codes allow, and the context that produced it (instruction id, party, limit or
field) so that the message alone is enough to act on.
"""

from __future__ import annotations

import enum

__all__ = [
    "AmountError",
    "CodeError",
    "DcepError",
    "DuplicateError",
    "EncodingError",
    "InsufficientFundsError",
    "InvalidFieldError",
    "InvariantError",
    "JournalError",
    "KeyAccessError",
    "KeyFileError",
    "LimitExceededError",
    "NotAuthorisedError",
    "Reason",
    "SequenceError",
    "SignatureError",
    "UnknownPartyError",
]


@enum.unique
class Reason(enum.StrEnum):
    """Why dcep refused something: one closed set, stable across versions.

    The values are short snake-case strings so that they read well in logs,
    JSON reports and the demo's table of rejections.
    """

    # Amounts (money boundary).
    AMOUNT_NOT_INTEGER = "amount_not_integer"
    AMOUNT_MALFORMED = "amount_malformed"
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    AMOUNT_NEGATIVE = "amount_negative"
    AMOUNT_TOO_LARGE = "amount_too_large"
    # Institution codes.
    CODE_MALFORMED = "code_malformed"
    CODE_DUPLICATE = "code_duplicate"
    CODE_OUTSIDE_PARENT = "code_outside_parent"
    # Encoding and fields of instructions.
    ENCODING_MALFORMED = "encoding_malformed"
    ENCODING_UNSUPPORTED_VERSION = "encoding_unsupported_version"
    ENCODING_UNKNOWN_KIND = "encoding_unknown_kind"
    FIELD_INVALID = "field_invalid"
    # Signatures and roles.
    SIGNATURE_INVALID = "signature_invalid"
    SIGNER_NOT_AUTHORISED = "signer_not_authorised"
    KYC_INSUFFICIENT = "kyc_insufficient"
    # Parties.
    LEDGER_NOT_INITIALISED = "ledger_not_initialised"
    LEDGER_ALREADY_INITIALISED = "ledger_already_initialised"
    UNKNOWN_BANK = "unknown_bank"
    UNKNOWN_WALLET = "unknown_wallet"
    UNKNOWN_ACCOUNT = "unknown_account"
    BANK_EXISTS = "bank_exists"
    WALLET_EXISTS = "wallet_exists"
    SELF_PAYMENT = "self_payment"
    REGULATOR_EXISTS = "regulator_exists"
    # Supervision.
    WALLET_FROZEN = "wallet_frozen"
    WALLET_NOT_FROZEN = "wallet_not_frozen"
    UNKNOWN_REGULATOR = "unknown_regulator"
    UNKNOWN_WARRANT = "unknown_warrant"
    WARRANT_ANSWERED = "warrant_answered"
    # Sub-wallets, category changes and closure (issue #24).
    WALLET_CLOSED = "wallet_closed"
    WALLET_HAS_SUB_WALLETS = "wallet_has_sub_wallets"
    WALLET_IS_SUB_WALLET = "wallet_is_sub_wallet"
    NOT_A_SUB_WALLET = "not_a_sub_wallet"
    SUB_WALLET_CAP_ABOVE_PARENT = "sub_wallet_cap_above_parent"
    # Idempotency and ordering.
    ID_REUSED = "id_reused"
    SEQUENCE_REPLAYED = "sequence_replayed"
    # Funds.
    INSUFFICIENT_BALANCE = "insufficient_balance"
    INSUFFICIENT_VAULT = "insufficient_vault"
    INSUFFICIENT_RESERVES = "insufficient_reserves"
    INSUFFICIENT_DEPOSIT = "insufficient_deposit"
    # Wallet category limits.
    BALANCE_CAP_EXCEEDED = "balance_cap_exceeded"
    SINGLE_PAYMENT_CAP_EXCEEDED = "single_payment_cap_exceeded"
    DAILY_CAP_EXCEEDED = "daily_cap_exceeded"
    ANNUAL_CAP_EXCEEDED = "annual_cap_exceeded"
    # The journal and its storage.
    JOURNAL_CHAIN_BROKEN = "journal_chain_broken"
    JOURNAL_BLOCK_MISMATCH = "journal_block_mismatch"
    JOURNAL_REPLAY_DIVERGED = "journal_replay_diverged"
    STORE_NOT_DCEP = "store_not_dcep"
    STORE_VERSION_UNSUPPORTED = "store_version_unsupported"
    STORE_CORRUPT = "store_corrupt"
    # Trust anchors (issue #27): the journal is not the expected central bank's.
    JOURNAL_UNTRUSTED_KEY = "journal_untrusted_key"
    # Rollback (issue #27): the journal does not extend a checkpoint seen before.
    JOURNAL_ROLLED_BACK = "journal_rolled_back"
    # Keys and key files.
    KEY_FILE_EXISTS = "key_file_exists"
    KEY_FILE_UNREADABLE = "key_file_unreadable"
    KEY_FILE_EXPOSED = "key_file_exposed"
    PASSPHRASE_WRONG = "passphrase_wrong"
    KEY_NOT_HELD = "key_not_held"
    # The ledger's own promises.
    INVARIANT_VIOLATED = "invariant_violated"
    # Two-phase payments, conditions and linked batches (issue #25).
    PENDING_UNKNOWN = "pending_unknown"
    PENDING_ALREADY_RESOLVED = "pending_already_resolved"
    PENDING_EXPIRED = "pending_expired"
    PENDING_OUTSTANDING = "pending_outstanding"
    CONDITION_NOT_MET = "condition_not_met"
    LINKED_BATCH_INVALID = "linked_batch_invalid"
    # Purpose-bound vouchers (issue #25).
    VOUCHER_UNKNOWN = "voucher_unknown"
    VOUCHER_EXPIRED = "voucher_expired"
    VOUCHER_WRONG_MERCHANT = "voucher_wrong_merchant"
    # Reserve modes (issue #24): interest only where the policy pays it.
    INTEREST_NOT_PAYABLE = "interest_not_payable"
    # Hardware wallets and dual-offline payments (issue #24).
    OFFLINE_DEVICE_UNKNOWN = "offline_device_unknown"
    OFFLINE_DEVICE_BLOCKED = "offline_device_blocked"
    OFFLINE_CAP_EXCEEDED = "offline_cap_exceeded"
    OFFLINE_TOKENS_UNSETTLED = "offline_tokens_unsettled"
    OFFLINE_ALLOWANCE_OUTSTANDING = "offline_allowance_outstanding"
    # Corporate wallets and their daily sweeps (issue #24).
    WALLET_NOT_CORPORATE = "wallet_not_corporate"
    SWEEP_NOT_SET = "sweep_not_set"
    SWEEP_NOT_DUE = "sweep_not_due"
    SWEEP_ALREADY_DONE = "sweep_already_done"
    SWEEP_AMOUNT_WRONG = "sweep_amount_wrong"


class DcepError(Exception):
    """Root of every error dcep raises on purpose.

    ``reason`` is machine-readable; ``instruction_id``, ``party`` and
    ``field`` name what was involved, where that is known, and are repeated
    in the message.
    """

    reason: Reason
    instruction_id: int | None
    party: str | None
    field: str | None

    def __init__(
        self,
        reason: Reason,
        message: str,
        *,
        instruction_id: int | None = None,
        party: str | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.instruction_id = instruction_id
        self.party = party
        self.field = field
        context = []
        if instruction_id is not None:
            context.append(f"instruction {instruction_id}")
        if party is not None:
            context.append(f"party {party}")
        if field is not None:
            context.append(f"field {field}")
        suffix = f" ({', '.join(context)})" if context else ""
        self.message = message
        super().__init__(f"[{reason.value}] {message}{suffix}")

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (worker pools); keep every field.
        return (
            _rebuild,
            (type(self), self.reason, self.message, self.instruction_id, self.party, self.field),
        )


def _rebuild(
    cls: type[DcepError],
    reason: Reason,
    message: str,
    instruction_id: int | None,
    party: str | None,
    field: str | None,
) -> DcepError:
    return cls(reason, message, instruction_id=instruction_id, party=party, field=field)


class AmountError(DcepError, ValueError):
    """An amount is malformed, not positive, negative or above the maximum."""


class CodeError(DcepError, ValueError):
    """An institution code is malformed, duplicated or outside its parent."""


class EncodingError(DcepError, ValueError):
    """Bytes do not decode to a valid instruction, or a field is out of range."""


class InvalidFieldError(DcepError, ValueError):
    """A field of an instruction is out of its allowed range or shape."""


class SignatureError(DcepError, PermissionError):
    """A signature does not verify for the claimed key, ledger and kind."""


class NotAuthorisedError(DcepError, PermissionError):
    """The signer's key has no right to do this, or KYC does not allow it."""


class UnknownPartyError(DcepError, LookupError):
    """A bank, wallet, account or the central bank is not known to the ledger."""


class DuplicateError(DcepError, ValueError):
    """Something that must be unique already exists (a bank, a wallet, an id)."""


class SequenceError(DcepError, ValueError):
    """A signer's sequence number is not above the last one the ledger accepted."""


class InsufficientFundsError(DcepError, ValueError):
    """A balance, vault, reserve or deposit is too small for the amount."""


class LimitExceededError(DcepError, ValueError):
    """A wallet category's cap would be broken; ``field`` names the cap."""


class JournalError(DcepError, ValueError):
    """A journal or store fails verification: broken chain, wrong block, bad file.

    ``entry`` and ``block`` name the first entry number and block height
    that disagree, where known.
    """

    entry: int | None
    block: int | None

    def __init__(
        self,
        reason: Reason,
        message: str,
        *,
        entry: int | None = None,
        block: int | None = None,
    ) -> None:
        self.entry = entry
        self.block = block
        where = [f"block {block}"] if block is not None else []
        where += [f"entry {entry}"] if entry is not None else []
        super().__init__(reason, f"{message} (at {', '.join(where)})" if where else message)
        self.message = message

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_journal, (self.reason, self.message, self.entry, self.block))


def _rebuild_journal(
    reason: Reason, message: str, entry: int | None, block: int | None
) -> JournalError:
    return JournalError(reason, message, entry=entry, block=block)


class KeyFileError(DcepError, ValueError):
    """A key file is missing, damaged, not a key file, or of a format this dcep cannot read."""


class KeyAccessError(DcepError, PermissionError):
    """A key cannot be used: wrong passphrase, a key file others can read, not the party's key."""


class InvariantError(DcepError, AssertionError):
    """The ledger broke one of its own promises: a bug, never user error."""
