"""Sweeps: a grid of settings under several seeds, run on Dask's distributed scheduler."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import distributed
import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dcep
import dcep.errors
import dcep.sweep
from dcep.sweep import SweepRun, grid, holding_limit_experiment, run_sweep, sweep_runs

# A Dask cluster of worker processes per sweep: seconds to start.
pytestmark = pytest.mark.slow

SMALL = {"wallets": [60], "payments": [150]}


def test_a_sweep_of_eight_runs_on_a_local_cluster(tmp_path: Path) -> None:
    points = grid(category_4_balance_cap_yuan=[500, 1000, 2000, 3000], **SMALL)
    runs = sweep_runs(points, seeds=[1, 2])
    seen: list[tuple[int, int]] = []
    result = run_sweep(
        holding_limit_experiment,
        runs,
        tmp_path,
        progress=lambda done, total: seen.append((done, total)),
    )
    rows = result.rows()
    assert [row["run"] for row in rows] == list(range(8))
    assert [(row["category_4_balance_cap_yuan"], row["seed"]) for row in rows] == [
        (cap, seed) for cap in (500, 1000, 2000, 3000) for seed in (1, 2)
    ]
    assert seen == [(done, 8) for done in range(1, 9)]
    for run, row in zip(result.runs, rows, strict=True):
        flows = result.run_directory(run) / "flows.parquet"
        # Each run's own Parquet, read by DuckDB: every payment accepted is a flow.
        relation = duckdb.sql(f"SELECT count(*) FROM '{flows}' WHERE kind = 'transfer'")
        assert relation is not None
        assert relation.fetchall() == [(row["payments_accepted"],)]
    # A worker process gives what this process gives: runs depend on their seed only.
    for run, metrics in list(zip(result.runs, result.metrics, strict=True))[:2]:
        directory = tmp_path / "again" / run.directory_name
        directory.mkdir(parents=True)
        again = holding_limit_experiment(run, directory)
        assert dict(again) == dict(metrics)


def test_a_client_you_hold_is_used_and_left_open(tmp_path: Path) -> None:
    runs = sweep_runs(grid(category_4_balance_cap_yuan=[1000], **SMALL), seeds=[3])
    with distributed.Client(  # type: ignore[no-untyped-call]
        processes=False, dashboard_address=None
    ) as client:
        result = run_sweep(holding_limit_experiment, runs, tmp_path, scheduler=client)
        assert client.status == "running"
    assert result.rows()[0]["seed"] == 3


axes = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d"]),
    st.lists(st.integers(-5, 5), min_size=1, max_size=3, unique=True),
    min_size=1,
)


@given(axes)
def test_grid_is_the_cartesian_product_last_axis_fastest(spec: dict[str, list[int]]) -> None:
    points = grid(**spec)
    assert len(points) == math.prod(len(values) for values in spec.values())
    assert len({tuple(point.items()) for point in points}) == len(points)
    last = list(spec)[-1]
    assert [point[last] for point in points[: len(spec[last])]] == spec[last]


@given(axes, st.lists(st.integers(0, 2**32), min_size=1, max_size=4))
def test_runs_are_every_point_under_every_seed(
    spec: dict[str, list[int]], seeds: list[int]
) -> None:
    runs = sweep_runs(grid(**spec), seeds)
    assert [run.index for run in runs] == list(range(len(runs)))
    assert len(runs) == len(grid(**spec)) * len(seeds)
    assert [run.seed for run in runs[: len(seeds)]] == seeds


@pytest.mark.parametrize(
    "call",
    [
        lambda: grid(cap=[]),
        lambda: grid(cap=[1.5]),  # type: ignore[list-item]
        lambda: grid(cap="1000"),
        lambda: sweep_runs([{"cap": 1}], seeds=[-1]),
        lambda: sweep_runs([{"cap": 1}], seeds=[]),
        lambda: sweep_runs([], seeds=[1]),
        lambda: SweepRun(0, 1, (("cap", 1),)).parameter("missing"),
    ],
)
def test_nonsense_is_refused_with_a_typed_error(call: object) -> None:
    assert callable(call)
    with pytest.raises(dcep.InvalidFieldError) as caught:
        call()
    assert caught.value.reason is dcep.Reason.FIELD_INVALID


def _float_metric(run: SweepRun, directory: Path) -> Mapping[str, int]:
    return {"share": 0.5}  # type: ignore[dict-item]


def test_a_metric_that_is_not_a_whole_number_is_refused(tmp_path: Path) -> None:
    runs = sweep_runs([{"cap": 1}], seeds=[1])
    with (
        distributed.Client(  # type: ignore[no-untyped-call]
            processes=False, dashboard_address=None
        ) as client,
        pytest.raises(dcep.InvalidFieldError, match="whole numbers"),
    ):
        run_sweep(_float_metric, runs, tmp_path, scheduler=client)


def test_workers_must_be_a_whole_number(tmp_path: Path) -> None:
    runs = sweep_runs([{"cap": 1}], seeds=[1])
    with pytest.raises(dcep.errors.InvalidFieldError):
        run_sweep(holding_limit_experiment, runs, tmp_path, workers=0)
