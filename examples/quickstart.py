"""The two-tier ledger in a dozen lines: issue, open wallets, fund, pay, prove.

Run: python examples/quickstart.py
"""

import dcep

ledger = dcep.Ledger()  # in memory, with a manual clock: runs repeat exactly
pboc = dcep.CentralBank(ledger, seed=2026)  # holds the issuing key
icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("1000000"))
pboc.issue(icbc, dcep.cny("500000"))  # 100% reserve: reserves fall by the same amount

icbc.pay_in("6222-0001", dcep.cny("8000"))  # Bob's deposit account (commercial-bank money)
alice = icbc.open_wallet(category=4, phone="13800000000")  # anonymous tier
bob = icbc.open_wallet(
    category=2, phone="13900000000", id_number="110101199001011234", linked_account="6222-0001"
)

icbc.fund(alice, dcep.cny("900"))  # over the counter: Alice has no linked account
icbc.fund(bob, dcep.cny("3000"))  # from Bob's linked deposit
receipt = alice.pay(bob, dcep.cny("12.50"), memo="noodles")
print(f"entry {receipt.entry_number}: alice {alice.balance}, bob {bob.balance}")

try:
    alice.pay(bob, dcep.cny("600"))  # category 4: at most ¥500 a payment
except dcep.LimitExceededError as error:
    print(f"refused ({error.reason.value}): {error.message}")

bob.defund(dcep.cny("1000"))  # back to his deposit account
supply = ledger.check_invariants()  # raises if any money was created or lost
print(
    f"outstanding {supply.outstanding} = vaults {supply.in_vaults} + wallets {supply.in_wallets}"
)
