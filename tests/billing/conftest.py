"""Billing tests: a cheap password hash, and a market of two regions."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

import scishare.accounts.service as accounts_service
from tests.billing.factories import Market, a_market


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts_service, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def market(session: Session) -> Market:
    return a_market(session)
