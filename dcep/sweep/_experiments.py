"""Experiments a sweep can run as they are: each a module-level function of one run.

Workers import an experiment by its name, so it must live in an importable
module, as these do.  Each is deterministic in the run's seed and writes its
tables as Parquet into the directory it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from dcep.errors import InvalidFieldError, Reason
from dcep.export._frames import write_parquet
from dcep.export._rows import flow_rows
from dcep.ledger._ledger import Ledger
from dcep.regulator._view import RegulatorView
from dcep.sim._scenario import Scenario, run_scenario
from dcep.sweep._sweep import SweepRun
from dcep.values._money import cny
from dcep.values._policy import Policy, WalletCategory

__all__ = ["holding_limit_experiment"]


def _whole(run: SweepRun, name: str, default: int) -> int:
    names = {key for key, _ in run.parameters}
    value = run.parameter(name) if name in names else default
    if type(value) is not int or value < 1:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, f"{name} is a whole number >= 1, not {value!r}", field=name
        )
    return value


def holding_limit_experiment(run: SweepRun, directory: Path) -> Mapping[str, int]:
    """The demo economy under one holding limit for anonymous (category 4) wallets.

    Parameters: ``category_4_balance_cap_yuan`` (default 1,000, CCB's), and
    ``wallets`` and ``payments`` (default 300 and 2,000).  Writes every flow
    the regulator sees to ``flows.parquet``; returns the payments accepted
    and refused (all, and for the balance cap), and the e-CNY in wallets and
    in bank vaults at the end, in fen.
    """
    cap_yuan = _whole(run, "category_4_balance_cap_yuan", 1000)
    policy = Policy()
    anonymous = policy.limits(WalletCategory.ANONYMOUS)
    policy = policy.with_limits(
        WalletCategory.ANONYMOUS, attrs.evolve(anonymous, balance_cap=cny(str(cap_yuan)))
    )
    scenario = Scenario(
        seed=run.seed,
        wallets=_whole(run, "wallets", 300),
        payments=_whole(run, "payments", 2000),
        policy=policy,
    )
    views: list[RegulatorView] = []

    def attach(ledger: Ledger) -> None:
        views.append(RegulatorView.attach(ledger))

    result = run_scenario(scenario, subscribe=attach)
    write_parquet(flow_rows(views[0]), directory / "flows.parquet")
    supply = result.ledger.check_invariants()
    return {
        "payments_accepted": result.payments_accepted,
        "refused": sum(result.rejections.values()),
        "refused_balance_cap": result.rejections[Reason.BALANCE_CAP_EXCEEDED],
        "in_wallets_fen": supply.in_wallets.fen,
        "in_vaults_fen": supply.in_vaults.fen,
    }
