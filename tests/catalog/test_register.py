from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.service import SYSTEM
from scishare.catalog.errors import (
    BadLifecycleMove,
    DuplicateInstrument,
    UnknownClassCode,
    UnknownTechnique,
)
from scishare.catalog.models import LifecycleState
from scishare.catalog.service import (
    change_lifecycle,
    get_instrument,
    lifecycle_history,
    read_instrument,
)
from tests.catalog.factories import an_instrument


class TestRegisterInstrument:
    def test_registers_with_techniques_and_service_items(self, session: Session) -> None:
        an_instrument(session, exchange_id="ZZ-0001234", technique_codes=["XRD", "HRXRD_XRR"])

        stored = read_instrument(get_instrument(session, "ZZ-0001234"))

        assert stored.technique_codes == ["XRD", "HRXRD_XRR"]
        assert stored.service_items[0].price_enterprise_fen == 30_000
        assert stored.lifecycle_state is LifecycleState.IN_SERVICE

    def test_rejects_unknown_class_code(self, session: Session) -> None:
        with pytest.raises(UnknownClassCode) as raised:
            an_instrument(session, class_code="9999")
        assert raised.value.field == "class_code"

    def test_rejects_unknown_technique(self, session: Session) -> None:
        with pytest.raises(UnknownTechnique, match="NOPE"):
            an_instrument(session, technique_codes=["NOPE"])

    def test_rejects_duplicate_exchange_id(self, session: Session) -> None:
        an_instrument(session, exchange_id="ZZ-0000007")
        with pytest.raises(DuplicateInstrument):
            an_instrument(session, exchange_id="ZZ-0000007")


class TestChangeLifecycle:
    def test_records_each_move(self, session: Session, now: datetime) -> None:
        instrument = an_instrument(session)

        change_lifecycle(session, instrument, to_state=LifecycleState.UNDER_MAINTENANCE,
                         reason="X-ray tube replaced", actor=SYSTEM, now=now)
        change_lifecycle(session, instrument, to_state=LifecycleState.RETIRED,
                         reason="beyond repair", actor=SYSTEM, now=now)

        moves = [(c.from_state, c.to_state) for c in lifecycle_history(session, instrument)]
        assert moves == [(None, "in_service"), ("in_service", "under_maintenance"),
                         ("under_maintenance", "retired")]
        assert instrument.is_open_external is False

    def test_retired_is_final(self, session: Session, now: datetime) -> None:
        instrument = an_instrument(session)
        change_lifecycle(session, instrument, to_state=LifecycleState.RETIRED,
                         reason="disposed", actor=SYSTEM, now=now)
        with pytest.raises(BadLifecycleMove):
            change_lifecycle(session, instrument, to_state=LifecycleState.IN_SERVICE,
                             reason="revived", actor=SYSTEM, now=now)
