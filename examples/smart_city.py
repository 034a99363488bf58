"""A month in Innova City on programmable money, and where the money ended up.

Two thousand residents ride buses, shop and order deliveries paid in escrow;
the city rewards green-waste sorting, subsidises fares, pays its staff in one
linked batch and runs a stimulus voucher campaign that can be spent only in
three districts before it expires.  Every payment is signed by the party
that makes it, on an in-memory ledger moved by a manual clock: the same seed
gives the same journal.

Run: python examples/smart_city.py
"""

from dcep import Amount
from dcep.sim import CityRole, CitySettings, simulate_city

result = simulate_city(CitySettings(seed=25))
report = result.report
supply = result.ledger.check_invariants()  # raises if any money was created or lost
print(f"{result.ledger.entry_count:,} journal entries over {result.settings.days} days")

for name, flow in (
    ("fares", report.fares),
    ("purchases", report.purchases),
    ("green-waste rewards", report.rewards),
    ("fare subsidy", report.subsidies),
    ("payroll (linked)", report.payroll),
):
    print(f"  {name:20} {flow.count:6,} payments  {Amount(flow.fen)}")

campaign = report.vouchers
print(f"stimulus: {campaign.vouchers:,} vouchers, {Amount(campaign.issued_fen)} issued")
for region, fen in campaign.spent_by_region.items():
    print(f"  spent in {region}: {Amount(fen)}")
print(f"  back with the city at expiry: {Amount(campaign.returned_fen)}")
print(f"  spends the ledger refused: {sum(campaign.refused.values())}")

escrow = report.escrow
print(
    f"deliveries in escrow: {escrow.payments} = {escrow.posted} posted + "
    f"{escrow.voided} voided + {escrow.expired} expired"
)
print("where the e-CNY is at the end of the month:")
for holder, fen in report.holdings_fen.items():
    print(f"  {holder:12} {Amount(fen)}")

# The promises, checked from the report (never figures copied from a run).
assert campaign.spent_fen + campaign.returned_fen == campaign.issued_fen
assert sum(campaign.spent_by_region.values()) == campaign.spent_fen
assert set(campaign.spent_by_region) <= {str(r) for r in result.settings.voucher_regions}
assert escrow.posted + escrow.voided + escrow.expired == escrow.payments
assert escrow.outstanding == 0
assert not result.ledger.pending_payments()
assert sum(report.holdings_fen.values()) == (supply.issued - supply.redeemed).fen
assert report.payroll.count == len(result.staff)
assert report.payroll_batches == 1
assert sum(1 for role in result.roles.values() if role is CityRole.RESIDENT) == 2_000
