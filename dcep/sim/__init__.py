"""Seeded economies that drive a ledger, with planted cases as ground truth.

:func:`simulate` runs an :class:`Economy` (banks with reserves, households,
merchants, employers, the rhythm of days and weeks) on any
:class:`~dcep.Ledger`, the same way every time for the same seed, and
plants laundering cases whose :class:`Case` records (:class:`Typology`,
members, entries, time window) are returned with the
:class:`SimulationResult`, never written to the journal; :func:`save_cases`
and :func:`load_cases` keep them in a JSON file beside a database.
:func:`run_scenario` builds the smaller :class:`Scenario` behind ``dcep demo``.
:func:`simulate_city` runs a month of Innova City on programmable money
(:class:`CitySettings`): fares, green-waste rewards, a stimulus voucher
campaign, escrowed deliveries and a linked payroll, and reports where the
money went (:class:`CityReport`).
"""

from dcep._exports import claim as _claim
from dcep.sim._cases import CASES_FORMAT as CASES_FORMAT
from dcep.sim._cases import Case as Case
from dcep.sim._cases import Typology as Typology
from dcep.sim._cases import load_cases as load_cases
from dcep.sim._cases import save_cases as save_cases
from dcep.sim._city import CityResult as CityResult
from dcep.sim._city import CityRole as CityRole
from dcep.sim._city import CitySettings as CitySettings
from dcep.sim._city_report import CityReport as CityReport
from dcep.sim._city_report import EscrowOutcomes as EscrowOutcomes
from dcep.sim._city_report import FlowTotal as FlowTotal
from dcep.sim._city_report import VoucherCampaign as VoucherCampaign
from dcep.sim._city_run import simulate_city as simulate_city
from dcep.sim._economy import Economy as Economy
from dcep.sim._economy import Role as Role
from dcep.sim._economy import SimulationResult as SimulationResult
from dcep.sim._scenario import Scenario as Scenario
from dcep.sim._scenario import ScenarioResult as ScenarioResult
from dcep.sim._scenario import run_scenario as run_scenario
from dcep.sim._simulate import simulate as simulate

__all__ = [
    "CASES_FORMAT",
    "Case",
    "CityReport",
    "CityResult",
    "CityRole",
    "CitySettings",
    "Economy",
    "EscrowOutcomes",
    "FlowTotal",
    "Role",
    "Scenario",
    "ScenarioResult",
    "SimulationResult",
    "Typology",
    "VoucherCampaign",
    "load_cases",
    "run_scenario",
    "save_cases",
    "simulate",
    "simulate_city",
]

_claim(__name__, globals(), __all__)
