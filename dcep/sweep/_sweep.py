"""Parameter sweeps: many seeded runs over a grid of settings, on Dask's scheduler.

A sweep is a list of :class:`SweepRun` (one point of the grid under one
seed) and an experiment: a picklable function that runs one of them, writes
whatever tables it likes as Parquet into its own directory, and returns a
few whole-number metrics.  The runs go to Dask's distributed scheduler: a
local cluster of worker processes by default, or any scheduler whose address
is given, so the same call runs on a laptop or on a cluster.  Only the small
metrics travel back; the tables stay where the workers wrote them, for
DuckDB, Polars or Spark to read together.  dcep never schedules work itself.
"""

from __future__ import annotations

import importlib
import itertools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol, final

import attrs

from dcep.errors import InvalidFieldError, Reason

__all__ = ["Experiment", "SweepResult", "SweepRun", "grid", "run_sweep", "sweep_runs"]

#: A parameter value: what a grid may vary and a Parquet column can hold.
ParameterValue = int | str | bool


@final
@attrs.frozen
class SweepRun:
    """One run of a sweep: its place in the sweep, its seed and its settings."""

    index: int
    seed: int
    parameters: tuple[tuple[str, ParameterValue], ...]

    def parameter(self, name: str) -> ParameterValue:
        """The value of one setting; ``FIELD_INVALID`` naming it if the grid has none."""
        for key, value in self.parameters:
            if key == name:
                return value
        raise InvalidFieldError(
            Reason.FIELD_INVALID, f"run {self.index} has no parameter {name!r}", field=name
        )

    @property
    def directory_name(self) -> str:
        """Where this run writes, below the sweep's directory: ``run-0007``."""
        return f"run-{self.index:04d}"


class Experiment(Protocol):
    """What a sweep runs: ``experiment(run, directory) -> metrics``.

    A module-level function (workers import it by name), deterministic in
    ``run.seed``; it writes its tables into ``directory`` and returns whole
    numbers, which travel back to the caller.
    """

    def __call__(self, run: SweepRun, directory: Path, /) -> Mapping[str, int]:
        """Run one point of the sweep."""
        ...


@final
@attrs.frozen
class SweepResult:
    """What a sweep produced: one row of metrics a run, and where its files are."""

    directory: Path
    runs: tuple[SweepRun, ...]
    metrics: tuple[Mapping[str, int], ...]

    def rows(self) -> list[dict[str, ParameterValue]]:
        """One row a run: ``run``, ``seed``, each parameter, then each metric, in run order."""
        rows: list[dict[str, ParameterValue]] = []
        for run, metrics in zip(self.runs, self.metrics, strict=True):
            row: dict[str, ParameterValue] = {"run": run.index, "seed": run.seed}
            row.update(run.parameters)
            row.update(metrics)
            rows.append(row)
        return rows

    def run_directory(self, run: SweepRun) -> Path:
        """The directory ``run`` wrote its tables into."""
        return self.directory / run.directory_name


def grid(**axes: Sequence[ParameterValue]) -> list[dict[str, ParameterValue]]:
    """Every combination of the axes' values, the last axis varying fastest.

    >>> grid(cap_yuan=[1000, 3000], waterfall=[False, True])  # doctest: +NORMALIZE_WHITESPACE
    [{'cap_yuan': 1000, 'waterfall': False}, {'cap_yuan': 1000, 'waterfall': True},
     {'cap_yuan': 3000, 'waterfall': False}, {'cap_yuan': 3000, 'waterfall': True}]
    """
    for name, values in axes.items():
        if isinstance(values, str | bytes) or not values:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, f"axis {name!r} needs a non-empty list of values", field=name
            )
        for value in values:
            if not isinstance(value, int | str):  # bool is an int
                raise InvalidFieldError(
                    Reason.FIELD_INVALID,
                    f"axis {name!r}: a parameter is an int, str or bool, not {value!r}",
                    field=name,
                )
    names = list(axes)
    return [
        dict(zip(names, combination, strict=True))
        for combination in itertools.product(*axes.values())
    ]


def sweep_runs(
    points: Iterable[Mapping[str, ParameterValue]], seeds: Iterable[int]
) -> tuple[SweepRun, ...]:
    """Each point under each seed, numbered in that order (points outer, seeds inner)."""
    seed_list = list(seeds)
    for seed in seed_list:
        if type(seed) is not int or seed < 0:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, f"a seed is a whole number >= 0, not {seed!r}", field="seeds"
            )
    if not seed_list:
        raise InvalidFieldError(Reason.FIELD_INVALID, "a sweep needs a seed", field="seeds")
    runs = [
        SweepRun(index, seed, tuple(point.items()))
        for index, (point, seed) in enumerate(itertools.product(list(points), seed_list))
    ]
    if not runs:
        raise InvalidFieldError(Reason.FIELD_INVALID, "a sweep needs a point", field="points")
    return tuple(runs)


def _run_one(experiment: Experiment, run: SweepRun, root: str) -> dict[str, int]:
    # On a worker: a directory of the run's own, the experiment, its metrics checked.
    directory = Path(root) / run.directory_name
    directory.mkdir(parents=True, exist_ok=True)
    metrics = dict(experiment(run, directory))
    for name, value in metrics.items():
        if type(value) is not int:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"run {run.index}: metric {name!r} is {value!r}; metrics are whole numbers",
                field=name,
            )
    return metrics


#: Dask settings while a local cluster starts (see :func:`run_sweep`).
_PATIENT_START: Final = {
    "distributed.comm.timeouts.connect": "120s",
    "distributed.comm.timeouts.tcp": "120s",
}


def _distributed() -> Any:
    try:
        return importlib.import_module("distributed")
    except ImportError as error:
        raise ImportError(
            "run_sweep needs Dask's distributed scheduler: pip install 'dcep[sweep]'"
        ) from error


def run_sweep(
    experiment: Experiment,
    runs: Sequence[SweepRun],
    directory: str | os.PathLike[str],
    *,
    scheduler: str | Any | None = None,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run every run of the sweep on Dask's distributed scheduler; return their metrics.

    ``scheduler`` is ``None`` for a local cluster of ``workers`` worker
    processes (one thread each: a run is pure Python, so threads would share
    one core), a scheduler's address (``"tcp://10.0.0.5:8786"``) to run on a
    cluster, or a ``distributed.Client`` you already hold.  ``directory``
    must be where every worker can write (a shared file system on a
    cluster).  Metrics come back in run order whatever order the workers
    finish in, so a sweep's result depends only on its runs and seeds.
    ``progress(done, total)`` is called as runs finish.
    """
    if not runs:
        raise InvalidFieldError(Reason.FIELD_INVALID, "a sweep needs a run", field="runs")
    if type(workers) is not int or workers < 1:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"workers is a whole number >= 1, not {workers!r}",
            field="workers",
        )
    distributed = _distributed()
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    cluster = None
    if scheduler is None:
        # Worker processes import dcep (and pandas) as they start: on a loaded
        # machine that can outlast Dask's 30-second connect timeout.
        with importlib.import_module("dask").config.set(_PATIENT_START):
            cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = distributed.Client(cluster)
    elif isinstance(scheduler, str):
        client = distributed.Client(scheduler)
    else:
        client = scheduler
    try:
        futures = [
            client.submit(_run_one, experiment, run, str(root), key=f"dcep-run-{run.index}")
            for run in runs
        ]
        for done, _ in enumerate(distributed.as_completed(futures), start=1):
            if progress is not None:
                progress(done, len(futures))
        metrics = tuple(client.gather(futures))
    finally:
        if scheduler is None or isinstance(scheduler, str):
            client.close()
        if cluster is not None:
            cluster.close()
    return SweepResult(directory=root, runs=tuple(runs), metrics=metrics)
