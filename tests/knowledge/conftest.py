from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.service import SYSTEM
from scishare.knowledge.schemas import SeedVersionRead
from scishare.knowledge.service import import_seed


@pytest.fixture
def seeded(session: Session, now: datetime) -> SeedVersionRead:
    """The packaged seed, imported into this test's transaction."""
    return import_seed(session, actor=SYSTEM, now=now)
