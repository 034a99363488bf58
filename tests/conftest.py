"""Shared test configuration: Hypothesis profiles.

``default`` is what CI and the README's test command run; ``quick`` is for
a fast local loop (``HYPOTHESIS_PROFILE=quick pytest``).  Deadlines are off
because the machines are shared and noisy: speed is the benchmarks' job.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("quick", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
