"""Booking tests: a cheap password hash, and a world of provider, instrument, operator, user."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

import scishare.accounts.service as accounts_service
from tests.booking.factories import World, a_world


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with its smallest cost: booking tests create many people and never sign in,
    and the default cost (about 0.2 s a hash) would dominate their runtime."""
    monkeypatch.setattr(accounts_service, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def world(session: Session) -> World:
    return a_world(session)
