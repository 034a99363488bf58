"""The ``dcep`` command line: ``demo``, ``verify`` and ``inspect``.

:func:`main` is the console script; ``python -m dcep`` runs it too.  Progress
bars come from tqdm, which only this package imports.
"""

from dcep._exports import claim as _claim
from dcep.cli._main import main as main

__all__ = [
    "main",
]

_claim(__name__, globals(), __all__)
