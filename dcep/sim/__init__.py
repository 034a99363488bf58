"""Seeded scenarios that drive a ledger: the economy behind ``dcep demo``.

:func:`run_scenario` builds banks and wallets from a :class:`Scenario` and
pays among them, the same way every time for the same seed.
"""

from dcep._exports import claim as _claim
from dcep.sim._scenario import Scenario as Scenario
from dcep.sim._scenario import ScenarioResult as ScenarioResult
from dcep.sim._scenario import run_scenario as run_scenario

__all__ = [
    "Scenario",
    "ScenarioResult",
    "run_scenario",
]

_claim(__name__, globals(), __all__)
