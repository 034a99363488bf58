"""Parameter sweeps on Dask's distributed scheduler: many seeded runs, one Parquet each.

:func:`grid` spells out the settings to try, :func:`sweep_runs` puts each
under each seed, and :func:`run_sweep` runs them on a local cluster of worker
processes or on any Dask scheduler, each run writing its own tables as
Parquet.  :func:`holding_limit_experiment` is an experiment ready to run.
Needs the optional extra ``dcep[sweep]`` (Dask's ``distributed``), imported
only when a sweep runs.
"""

from dcep._exports import claim as _claim
from dcep.sweep._experiments import holding_limit_experiment as holding_limit_experiment
from dcep.sweep._sweep import Experiment as Experiment
from dcep.sweep._sweep import SweepResult as SweepResult
from dcep.sweep._sweep import SweepRun as SweepRun
from dcep.sweep._sweep import grid as grid
from dcep.sweep._sweep import run_sweep as run_sweep
from dcep.sweep._sweep import sweep_runs as sweep_runs

__all__ = [
    "Experiment",
    "SweepResult",
    "SweepRun",
    "grid",
    "holding_limit_experiment",
    "run_sweep",
    "sweep_runs",
]

_claim(__name__, globals(), __all__)
