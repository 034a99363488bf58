"""Checkpoints: a block a verifier saw before, so that a later copy can be held to it.

A journal file can prove that it agrees with itself and, given the central
bank's key, that the central bank signed every block in it.  It cannot prove
that it is whole: a copy cut back to an earlier block (with that block's
snapshot) is exactly what the file looked like back then, signatures and
all.  Only something kept outside the file can tell the two apart: the
height and hash of a block the verifier (or anyone it trusts) saw before.
Block headers chain by hash, so a file that holds a block of that height
with that hash, and verifies, extends what was seen; one that holds fewer
blocks, or another block there, was cut back or rewritten.
"""

from __future__ import annotations

from typing import Final, final

import attrs

from dcep.errors import InvalidFieldError, Reason

__all__ = ["Checkpoint"]

_HASH_SIZE: Final = 32


def _check_height(_instance: object, _attribute: object, value: int) -> None:
    if type(value) is not int or value < 1:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"a checkpoint's height is a whole number of blocks, at least 1, not {value!r}",
            field="height",
        )


def _check_hash(_instance: object, _attribute: object, value: bytes) -> None:
    if type(value) is not bytes or len(value) != _HASH_SIZE:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"a checkpoint's block hash is {_HASH_SIZE} bytes",
            field="block_hash",
        )


@final
@attrs.frozen
class Checkpoint:
    """The height of a journal (its number of sealed blocks) and the hash of its last block.

    ``dcep verify`` prints one after every successful run; keep it, and give
    it back with ``--since`` next time to be sure the file was not cut back.

    >>> checkpoint = Checkpoint.parse("7:" + "ab" * 32)
    >>> checkpoint.height, checkpoint.to_text() == "7:" + "ab" * 32
    (7, True)
    """

    height: int = attrs.field(validator=_check_height)
    block_hash: bytes = attrs.field(validator=_check_hash, repr=lambda h: h.hex()[:16] + "...")

    def to_text(self) -> str:
        """``HEIGHT:HASH``, the hash in hex: what ``dcep verify`` prints and ``--since`` takes."""
        return f"{self.height}:{self.block_hash.hex()}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read what :meth:`to_text` wrote; ``FIELD_INVALID`` for anything else."""
        height_text, separator, hash_text = text.strip().partition(":")
        try:
            if not separator or not height_text.isdigit():
                raise ValueError(text)
            return cls(int(height_text), bytes.fromhex(hash_text))
        except ValueError:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"a checkpoint is HEIGHT:HASH (64 hex digits), not {text!r}",
                field="since",
            ) from None
