"""Cross-cutting foundations: settings, database, money, time, errors, reference data."""
