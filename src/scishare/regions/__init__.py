"""Administrative regions (national division codes: province -> city).

Organisations, instruments, bureau officers and voucher funds all belong to a region, so regions
stand on their own below accounts and catalog.
"""
