from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.service import SYSTEM
from scishare.knowledge.schemas import SeedVersionRead
from scishare.knowledge.service import import_seed
from scishare.matching.service import Engine, build_engine, forget_engine
from tests.matching.factories import Catalog, a_catalog


@pytest.fixture(autouse=True)
def _fresh_engine() -> Iterator[None]:
    """Each test builds its own engine: the shared one may describe another test's catalog."""
    forget_engine()
    yield
    forget_engine()


@pytest.fixture
def seeded(session: Session, now: datetime) -> SeedVersionRead:
    return import_seed(session, actor=SYSTEM, now=now)


@pytest.fixture
def catalog(session: Session, seeded: SeedVersionRead) -> Catalog:
    return a_catalog(session)


@pytest.fixture
def matcher(session: Session, catalog: Catalog) -> Engine:
    return build_engine(session)
