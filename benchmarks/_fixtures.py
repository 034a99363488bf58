"""Deterministic populations of funded wallets and pre-signed transfers.

Everything is built from raw instructions signed with keys derived from one
seed, so that the same envelopes can be submitted to several ledgers (each
its own state) and a run repeats byte for byte.  The central bank, one
bank, and ``n`` category-1 wallets (default policy caps) linked to one
deposit account and funded over the counter with ¥1,000 each; payments are
1 to 100 fen, so every one is accepted.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import dcep
import dcep.core
import dcep.instructions
import dcep.journal
import dcep.values
from benchmarks._common import Context, chunked, time_call
from dcep.instructions._encoding import domain_tag
from dcep.instructions._kinds import NEW_KEY_FIELDS
from dcep.values._crypto import derive_seed, digest, domain_message

NETWORK_ID: Final = "dcep-sim"
NETWORK: Final = NETWORK_ID.encode("ascii")
LINKED_ACCOUNT: Final = "6222-0000-0001"
FUNDING: Final = dcep.cny("1000")
#: The share of wallets that make most payments in the hot-spot variant ...
HOT_WALLETS: Final = 0.2
#: ... and the share of payments they make.
HOT_PAYMENTS: Final = 0.8

#: What a signature covers, with the signature in front, and the public key:
#: the arguments of ``nacl.bindings.crypto_sign_open``.
SignedMessage = tuple[bytes, bytes]
#: Builds an instruction from its id and sequence number.
Build = Callable[[int, int], dcep.instructions.Instruction]
CENTRAL_CODE: Final = "MA.156.1100.00"
BANK_CODE: Final = "MA.156.1100.01"


@dataclass
class Payer:
    """A wallet's key and the last sequence number it signed."""

    key: dcep.values.SigningKey
    address: dcep.Address
    sequence: int = 0


class Population:
    """The keys of a central bank, one bank and ``wallets`` wallets, from one seed."""

    def __init__(self, wallets: int, *, seed: int = 2026) -> None:
        if wallets < 2:
            raise ValueError("a population needs two wallets to pay each other")
        master = digest(seed.to_bytes(8, "big"), person=b"bench.master")
        self.central = dcep.values.SigningKey(derive_seed(master, "central-bank"))
        self.bank = dcep.values.SigningKey(derive_seed(master, "bank"))
        self._master = master
        self.payers = [self._wallet_key(index) for index in range(wallets)]

    def _wallet_key(self, index: int) -> Payer:
        key = dcep.values.SigningKey(derive_seed(self._master, f"wallet:{index}"))
        return Payer(key, key.address)

    @property
    def size(self) -> int:
        """How many wallets."""
        return len(self.payers)

    def setup_envelopes(self) -> Iterator[dcep.instructions.SignedInstruction]:
        """Genesis, the bank, issuance, a deposit account, then open and fund each wallet.

        Lazy, and the same envelopes every time it is called.
        """
        central_sequence = 0
        bank_sequence = 0

        def by_central(build: Build) -> dcep.instructions.SignedInstruction:
            nonlocal central_sequence
            central_sequence += 1
            instruction = build(central_sequence, central_sequence)
            return dcep.instructions.SignedInstruction.sign(instruction, self.central, NETWORK)

        def by_bank(build: Build) -> dcep.instructions.SignedInstruction:
            nonlocal bank_sequence
            bank_sequence += 1
            instruction = build(bank_sequence, bank_sequence)
            return dcep.instructions.SignedInstruction.sign(instruction, self.bank, NETWORK)

        needed = dcep.Amount(FUNDING.fen * self.size)
        bank_key = self.bank.verify_key
        bank = self.bank.address
        yield by_central(
            lambda i, s: dcep.instructions.Genesis(
                i, s, name="People's Bank of China", code=dcep.InstitutionCode.parse(CENTRAL_CODE)
            )
        )
        yield by_central(
            lambda i, s: dcep.instructions.AuthoriseBank(
                i,
                s,
                bank_key=bank_key,
                name="Benchmark Bank",
                code=dcep.InstitutionCode.parse(BANK_CODE),
                reserves=needed,
            )
        )
        yield by_central(lambda i, s: dcep.instructions.Issue(i, s, bank=bank, amount=needed))
        yield by_bank(
            lambda i, s: dcep.instructions.PayIn(
                i, s, account=LINKED_ACCOUNT, amount=dcep.cny("1")
            )
        )
        for index, payer in enumerate(self.payers):
            wallet_key = payer.key.verify_key
            kyc = digest(f"kyc:{index}".encode(), person=b"bench.kyc")
            yield by_bank(
                lambda i, s: dcep.instructions.OpenWallet(
                    i,
                    s,
                    wallet_key=wallet_key,  # noqa: B023 - called at once
                    category=dcep.WalletCategory.IN_PERSON,
                    linked_account=LINKED_ACCOUNT,
                    kyc_digest=kyc,  # noqa: B023 - called at once
                )
            )
            address = payer.address
            yield by_bank(
                lambda i, s: dcep.instructions.Fund(
                    i,
                    s,
                    wallet=address,  # noqa: B023 - called at once
                    amount=FUNDING,
                    from_account="",
                )
            )

    @property
    def setup_count(self) -> int:
        """How many envelopes :meth:`setup_envelopes` yields."""
        return 4 + 2 * self.size

    def transfers(
        self, count: int, rng: random.Random, *, hot_spot: bool = False
    ) -> Iterator[dcep.instructions.SignedInstruction]:
        """Sign ``count`` payments of 1 to 100 fen; payers uniform, or 20% of them making 80%.

        Each payer's sequence numbers continue from the last call, so batches
        signed one after another are accepted in that order.
        """
        payers = self.payers
        size = len(payers)
        hot = max(1, int(size * HOT_WALLETS))
        for _ in range(count):
            if not hot_spot:
                payer_index = rng.randrange(size)
            elif rng.random() < HOT_PAYMENTS:
                payer_index = rng.randrange(hot)
            else:
                payer_index = rng.randrange(hot, size)
            payee_index = rng.randrange(size - 1)
            if payee_index >= payer_index:
                payee_index += 1
            payer = payers[payer_index]
            payer.sequence += 1
            transfer = dcep.instructions.Transfer(
                payer.sequence,
                payer.sequence,
                payer=payer.address,
                payee=payers[payee_index].address,
                amount=dcep.Amount(rng.randint(1, 100)),
            )
            yield dcep.instructions.SignedInstruction.sign(transfer, payer.key, NETWORK)


def signed_message(envelope: dcep.instructions.SignedInstruction) -> SignedMessage:
    """Rebuild exactly what the envelope's signature covers, as ``crypto_sign_open`` takes it."""
    message = domain_message(domain_tag(envelope.instruction.KIND), NETWORK, envelope.body)
    return envelope.signature + message, bytes(envelope.signer)


def submit_all(
    ledger: dcep.Ledger,
    envelopes: Iterable[dcep.instructions.SignedInstruction | bytes],
    batch: int,
) -> int:
    """Submit everything in ``submit_many`` batches; return how many were refused."""
    refused = 0
    pending: list[dcep.instructions.SignedInstruction | bytes] = []
    for envelope in envelopes:
        pending.append(envelope)
        if len(pending) >= batch:
            refused += count_refused(ledger.submit_many(pending))
            pending = []
    if pending:
        refused += count_refused(ledger.submit_many(pending))
    return refused


def count_refused(results: Iterable[dcep.Receipt | dcep.core.Rejection]) -> int:
    """How many of a batch's (or a stream's) results are rejections."""
    return sum(1 for result in results if isinstance(result, dcep.core.Rejection))


def funded_ledger(
    kind: str,
    population: Population,
    setup: Sequence[dcep.instructions.SignedInstruction],
    path: Path,
) -> dcep.Ledger:
    """A ledger of ``kind`` (``memory``, ``journal``, ``sqlite``) with ``setup`` applied.

    Journalled ledgers get the central bank's key, so that they seal blocks
    (and take snapshots) as one run by :class:`dcep.CentralBank` would.
    """
    if kind == "memory":
        ledger = dcep.Ledger(network_id=NETWORK_ID)
    elif kind == "journal":
        ledger = dcep.Ledger.with_journal(network_id=NETWORK_ID)
    elif kind == "sqlite":
        ledger = dcep.Ledger.open(path, network_id=NETWORK_ID)
    else:
        raise ValueError(f"no ledger kind {kind!r}")
    if ledger.journal is not None:
        ledger.journal.attach_signer(population.central)
    refused = submit_all(ledger, setup, 1_000)
    if refused:
        raise AssertionError(f"{refused} setup instructions were refused")
    return ledger


@dataclass(frozen=True)
class Database:
    """A SQLite ledger file built for ``recover`` and ``verify_db``, and its crash image."""

    path: Path
    entries: int
    wallets: int
    build_seconds: float
    #: Entries covered by the stored snapshot (0 if none): recovery replays the rest.
    snapshot_entries: int
    blocks: int
    #: A copy of the files taken just before ``close()``: what a crash would have left.
    crash_path: Path
    crash_snapshot_entries: int


def _snapshot_entries(path: Path) -> tuple[int, int]:
    """(entries covered by the stored snapshot, blocks stored) of a ledger file."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT entry_count FROM snapshot").fetchone()
        blocks = connection.execute("SELECT count(*) FROM blocks").fetchone()[0]
    finally:
        connection.close()
    return (int(row[0]) if row else 0), int(blocks)


def database(context: Context) -> Database:
    """The run's database of ``sizes.database_entries`` entries, built on first use."""
    entries = context.sizes.database_entries
    cached = context.databases.get(entries)
    if isinstance(cached, Database):
        return cached
    wallets = max(1_000, entries // 10)
    population = Population(wallets, seed=77)
    transfers = entries - population.setup_count
    if transfers < 0:
        raise ValueError(f"{entries} entries cannot hold the setup of {wallets} wallets")
    path = context.scratch / f"ledger-{entries}.db"
    crash_path = context.scratch / f"ledger-{entries}-crash.db"
    context.say(
        f"building {path.name}: {wallets:,} wallets and {transfers:,} transfers "
        "(SQLite, SYNC, batches of 1,000)"
    )

    def build() -> None:
        ledger = dcep.Ledger.open(path, network_id=NETWORK_ID)
        assert ledger.journal is not None
        ledger.journal.attach_signer(population.central)
        rng = random.Random(7)
        refused = submit_all(ledger, population.setup_envelopes(), 1_000)
        refused += submit_all(ledger, population.transfers(transfers, rng), 1_000)
        if refused or ledger.entry_count != entries:
            raise AssertionError(f"built {ledger.entry_count} entries, {refused} refused")
        # Every batch is committed (SYNC): the files now are what a crash would leave.
        for suffix in ("", "-wal"):
            source = Path(f"{path}{suffix}")
            if source.exists():
                shutil.copyfile(source, f"{crash_path}{suffix}")
        ledger.close()

    seconds = time_call(build)
    snapshot_entries, blocks = _snapshot_entries(path)
    crash_snapshot_entries, _ = _snapshot_entries(crash_path)
    built = Database(
        path,
        entries,
        wallets,
        seconds,
        snapshot_entries,
        blocks,
        crash_path,
        crash_snapshot_entries,
    )
    context.databases[entries] = built
    return built


def database_messages(path: Path, limit: int) -> list[SignedMessage]:
    """The signed messages of the last ``limit`` entries stored in ``path``."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT body FROM entries ORDER BY number DESC LIMIT ?", (limit,)
        ).fetchall()
    finally:
        connection.close()
    messages = []
    for (body,) in rows:
        entry = dcep.journal.JournalEntry.decode(body, bytes(32))
        messages.append(
            signed_message(dcep.instructions.SignedInstruction.from_bytes(entry.envelope))
        )
    return messages


def database_bound_keys(path: Path) -> tuple[int, list[bytes]]:
    """How many entries of ``path`` bind a new public key, and those keys.

    A wallet's opening (and a bank's registration) binds a key, which every
    replica checks is a point of the prime-order group (libsodium's
    ``crypto_core_ed25519_is_valid_point``) on top of the entry's signature.
    """
    binding = {int(kind): names for kind, names in NEW_KEY_FIELDS.items()}
    # An entry's body: 21 bytes of head, then the envelope (32 key, 64 signature, body).
    kind_at = 21 + 32 + 64 + 1
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    bound = 0
    keys: list[bytes] = []
    try:
        for (body,) in connection.execute("SELECT body FROM entries ORDER BY number"):
            names = binding.get(body[kind_at]) if len(body) > kind_at else None
            if names is None:
                continue
            bound += 1
            envelope = dcep.journal.JournalEntry.decode(body, bytes(32)).envelope
            instruction = dcep.instructions.SignedInstruction.from_bytes(envelope).instruction
            keys.extend(bytes(getattr(instruction, name)) for name in names)
    finally:
        connection.close()
    return bound, keys


def batches(
    envelopes: Sequence[dcep.instructions.SignedInstruction | bytes], size: int
) -> list[Sequence[dcep.instructions.SignedInstruction | bytes]]:
    """``envelopes`` cut into ``submit_many`` batches."""
    return chunked(envelopes, size)
