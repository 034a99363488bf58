"""``verify_only``: the ceiling, libsodium's Ed25519 verification and nothing else.

The messages are exactly what pre-signed transfer envelopes' signatures
cover (``domain_message(tag, network, body)``), so the rate is the most any
ledger that checks every signature could accept.  Measured in this process
(raw binding, PyNaCl's ``VerifyKey.verify``, dcep's ``SignedInstruction.verify``)
and across a pool of ``os.cpu_count()`` workers started once.
"""

from __future__ import annotations

import random

import nacl.signing

from benchmarks._ceiling import VerifyPool, verify_messages
from benchmarks._common import Context, Result, interleaved, rate_figure
from benchmarks._fixtures import NETWORK, Population, signed_message

NAME = "verify_only"
REFERENCE = "crypto_sign_open, 1 process"


def run(context: Context) -> Result:
    """Measure the verify ceiling on one core and on all of them."""
    count = context.sizes.verify_messages
    wallets = max(2, min(2_000, count // 10))
    context.say(f"signing {count:,} transfers between {wallets:,} wallets")
    population = Population(wallets, seed=11)
    envelopes = list(population.transfers(count, random.Random(1)))
    messages = [signed_message(envelope) for envelope in envelopes]
    keys = [nacl.signing.VerifyKey(public_key) for _, public_key in messages]
    result = Result(
        NAME,
        {"messages": count, "signers": wallets, "message_bytes": len(messages[0][0])},
    )

    def with_verify_key() -> None:
        for key, (signed, _) in zip(keys, messages, strict=True):
            key.verify(signed)

    def with_envelopes() -> None:
        for envelope in envelopes:
            envelope.verify(NETWORK)

    context.say("starting the verify pool")
    with VerifyPool(messages) as pool:
        result.parameters["processes"] = pool.processes
        verify_messages(messages[:200])
        timings = interleaved(
            {
                "raw": lambda: verify_messages(messages),
                "verify_key": with_verify_key,
                "envelope": with_envelopes,
                "pool": pool.run,
                "pool_shipped": pool.run_shipped,
            },
            context.repeats,
        )
    raw = timings["raw"]
    sig = "signatures/s"
    result.add(
        rate_figure(REFERENCE, sig, raw, count, REFERENCE, sig, raw, count, note="reference")
    )
    result.add(
        rate_figure(
            "nacl.signing.VerifyKey.verify, 1 process",
            sig,
            timings["verify_key"],
            count,
            REFERENCE,
            sig,
            raw,
            count,
        )
    )
    result.add(
        rate_figure(
            "dcep SignedInstruction.verify, 1 process",
            sig,
            timings["envelope"],
            count,
            REFERENCE,
            sig,
            raw,
            count,
        )
    )
    result.add(
        rate_figure(
            f"crypto_sign_open, pool of {pool.processes}",
            sig,
            timings["pool"],
            count,
            REFERENCE,
            sig,
            raw,
            count,
            note="messages held by the workers",
        )
    )
    result.add(
        rate_figure(
            f"crypto_sign_open, pool of {pool.processes}, shipped",
            sig,
            timings["pool_shipped"],
            count,
            REFERENCE,
            sig,
            raw,
            count,
            note="messages pickled to the workers per call",
        )
    )
    result.details["seconds"] = {name: list(t.seconds) for name, t in timings.items()}
    return result
