"""The app over the test database, inside the test's rolled-back transaction.

Each request gets its own session on the test's connection, joined with a SAVEPOINT: the
app commits and rolls back as in production, and everything is undone after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scishare.accounts.models import Account, Role
from scishare.web import deps
from scishare.web.app import create_app
from scishare.web.csrf import CSRF_COOKIE
from tests.web.seed import PASSWORD, Catalog, a_person, henan_catalog


@pytest.fixture
def app(engine: Engine, session: Session, now: datetime) -> FastAPI:
    built = create_app(engine)
    connection = session.get_bind()
    built.state.sessions = lambda: Session(bind=connection, expire_on_commit=False,
                                           join_transaction_mode="create_savepoint")
    built.dependency_overrides[deps.now] = lambda: now
    return built


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def catalog(session: Session) -> Catalog:
    return henan_catalog(session)


@pytest.fixture
def provider(session: Session, catalog: Catalog) -> Account:
    """The university's provider administrator."""
    return a_person(session, catalog.university, Role.PROVIDER_ADMIN, "admin@zzu.example.cn")


@pytest.fixture
def other_provider(session: Session, catalog: Catalog) -> Account:
    """The institute's provider administrator."""
    return a_person(session, catalog.institute, Role.PROVIDER_ADMIN, "admin@hnas.example.cn")


@pytest.fixture
def demander(session: Session, catalog: Catalog) -> Account:
    return a_person(session, catalog.institute, Role.DEMANDER, "user@hnas.example.cn")


def sign_in(client: TestClient, account: Account) -> None:
    response = client.post("/api/auth/signin",
                           json={"email": account.email, "password": PASSWORD})
    assert response.status_code == 200, response.text


def csrf_token(client: TestClient) -> str:
    """The browser's form token, as a page it visited would have set it."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/signin")
    return client.cookies[CSRF_COOKIE]
