"""Shared test configuration: Hypothesis profiles.

``default`` is what CI and the README's test command run: derandomised, so
that a run repeats exactly (a failure there is reproducible, never a fluke
of the day's seed).  ``explore`` draws fresh examples every run, for hunting
(``HYPOTHESIS_PROFILE=explore pytest``); ``quick`` is for a fast local loop.
Deadlines are off because the machines are shared and noisy: speed is the
benchmarks' job.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("quick", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
