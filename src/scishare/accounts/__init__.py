"""Organisations, people, roles, sign-in and API tokens."""
