"""Instruments, service items, the national classification and technique vocabulary."""
