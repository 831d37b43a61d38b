"""Matching: a need in plain language becomes ranked, explained offers."""
