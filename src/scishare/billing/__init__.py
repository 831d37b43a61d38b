"""Fees, innovation vouchers, settlement, the double-entry ledger, clearing and insurance."""
