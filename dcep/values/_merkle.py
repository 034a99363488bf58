"""Merkle roots and inclusion proofs over a block's entries (RFC 9162 shape).

Leaves and inner nodes are hashed under different prefixes (``0x00`` and
``0x01``) so that no inner node can pass for a leaf, and an odd-sized tree
splits at the largest power of two below its size, as Certificate
Transparency does: every tree size has exactly one shape, and a proof needs
nothing but the leaf, its index, the tree size and the sibling hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final, final

import attrs

from dcep.values._crypto import digest

__all__ = [
    "InclusionProof",
    "RootBuilder",
    "inclusion_proof",
    "leaf_hash",
    "merkle_root",
    "verify_inclusion",
]

_PERSON: Final = b"dcep.merkle"
_EMPTY_ROOT: Final = digest(b"", person=_PERSON)
# Hashers already fed the personalisation and the prefix: each leaf and node
# copies one and adds its own bytes, about a third of the cost of setting up
# a hasher (a block's roots hash once or twice per account and entry).
_LEAF: Final = hashlib.blake2b(b"\x00", digest_size=32, person=_PERSON)
_NODE: Final = hashlib.blake2b(b"\x01", digest_size=32, person=_PERSON)


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf."""
    hasher = _LEAF.copy()
    hasher.update(data)
    return hasher.digest()


def _node(left: bytes, right: bytes) -> bytes:
    hasher = _NODE.copy()
    hasher.update(left)
    hasher.update(right)
    return hasher.digest()


def _split(size: int) -> int:
    # The largest power of two strictly below size (size >= 2).
    return 1 << ((size - 1).bit_length() - 1)


def _root_of_hashes(hashes: Sequence[bytes]) -> bytes:
    # Bottom-up pairing gives the same tree as the recursive split: pair
    # neighbours level by level and carry an odd last node up unchanged.
    # _node written out: a block's roots take about three nodes an entry,
    # and a call each was a third of their cost.
    level = list(hashes)
    copy = _NODE.copy
    while len(level) > 1:
        paired: list[bytes] = []
        append = paired.append
        # An odd last node has no right-hand neighbour: zip leaves it out.
        for left, right in zip(level[::2], level[1::2], strict=False):
            hasher = copy()
            hasher.update(left)
            hasher.update(right)
            append(hasher.digest())
        if len(level) % 2:
            append(level[-1])
        level = paired
    return level[0]


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root over ``leaf_hashes`` (already hashed with :func:`leaf_hash`)."""
    if not leaf_hashes:
        return _EMPTY_ROOT
    return _root_of_hashes(leaf_hashes)


#: Leaves a :class:`RootBuilder` hashes into one subtree at a time (a power of two).
DEFAULT_CHUNK_LEAVES: Final = 4096


@final
class RootBuilder:
    """The :func:`merkle_root` of leaves that arrive a slice at a time, in bounded memory.

    A snapshot's state root covers millions of rows, hashed a slice at each
    commit point so that no one call pays for all of them: holding every
    leaf hash until the end would cost tens of megabytes.  The tree's shape
    (split at the largest power of two) makes each aligned run of
    ``chunk_leaves`` leaves a perfect subtree, so only those subtrees' roots
    are kept, merged pairwise like a binary counter (at most one per
    power of two), plus the leaves of the run not yet complete.
    """

    __slots__ = ("_chunk", "_open", "_size", "_subtrees")

    def __init__(self, chunk_leaves: int = DEFAULT_CHUNK_LEAVES) -> None:
        if chunk_leaves < 1 or chunk_leaves & (chunk_leaves - 1):
            raise ValueError("chunk_leaves is a power of two")
        self._chunk = chunk_leaves
        #: (leaf count, root) of complete perfect subtrees, largest first.
        self._subtrees: list[tuple[int, bytes]] = []
        self._open: list[bytes] = []
        self._size = 0

    @property
    def size(self) -> int:
        """How many leaves were added."""
        return self._size

    def add(self, leaf_hashes: Sequence[bytes]) -> None:
        """Append leaves (already hashed with :func:`leaf_hash`), in tree order."""
        self._size += len(leaf_hashes)
        pending = self._open
        pending.extend(leaf_hashes)
        chunk = self._chunk
        if len(pending) < chunk:
            return
        subtrees = self._subtrees
        start = 0
        while len(pending) - start >= chunk:
            count, root = chunk, _root_of_hashes(pending[start : start + chunk])
            start += chunk
            while subtrees and subtrees[-1][0] == count:
                root = _node(subtrees.pop()[1], root)
                count *= 2
            subtrees.append((count, root))
        del pending[:start]

    def root(self) -> bytes:
        """The root over every leaf added so far (what :func:`merkle_root` gives for them)."""
        if not self._size:
            return _EMPTY_ROOT
        # The tree is the perfect subtrees from the left, then the open run's
        # tree, joined from the right.
        parts = [root for _, root in self._subtrees]
        if self._open:
            parts.append(_root_of_hashes(self._open))
        root = parts[-1]
        for left in reversed(parts[:-1]):
            root = _node(left, root)
        return root


@final
@attrs.frozen
class InclusionProof:
    """That leaf ``index`` of a tree of ``size`` leaves is under a root."""

    index: int
    size: int
    siblings: tuple[bytes, ...]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> InclusionProof:
    """The proof for leaf ``index``; ``IndexError`` if there is no such leaf."""
    if not 0 <= index < len(leaf_hashes):
        raise IndexError(f"no leaf {index} in a tree of {len(leaf_hashes)}")
    siblings: list[bytes] = []
    _collect(list(leaf_hashes), index, siblings)
    return InclusionProof(index=index, size=len(leaf_hashes), siblings=tuple(siblings))


def _collect(hashes: list[bytes], index: int, siblings: list[bytes]) -> None:
    # Siblings are recorded from the leaf upwards.
    if len(hashes) == 1:
        return
    split = _split(len(hashes))
    if index < split:
        _collect(hashes[:split], index, siblings)
        siblings.append(_root_of_hashes(hashes[split:]))
    else:
        _collect(hashes[split:], index - split, siblings)
        siblings.append(_root_of_hashes(hashes[:split]))


def verify_inclusion(leaf: bytes, proof: InclusionProof, root: bytes) -> bool:
    """Whether ``leaf`` (its hash) sits at ``proof.index`` under ``root``.

    The RFC 9162 section 2.1.3.2 algorithm: walk up from the leaf, using
    the index and size to tell on which side each sibling lies.
    """
    if not 0 <= proof.index < proof.size:
        return False
    node_index = proof.index
    last_index = proof.size - 1
    result = leaf
    for sibling in proof.siblings:
        if last_index == 0:
            return False
        if node_index % 2 == 1 or node_index == last_index:
            result = _node(sibling, result)
            if node_index % 2 == 0:
                while node_index % 2 == 0 and node_index != 0:
                    node_index >>= 1
                    last_index >>= 1
        else:
            result = _node(result, sibling)
        node_index >>= 1
        last_index >>= 1
    return last_index == 0 and result == root
