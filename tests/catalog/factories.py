"""Instruments built through the catalog service."""

from __future__ import annotations

from itertools import count

from sqlalchemy.orm import Session

from scishare.accounts.models import Organisation
from scishare.accounts.service import SYSTEM
from scishare.catalog.models import Instrument, ServiceUnit
from scishare.catalog.schemas import InstrumentCreate, ServiceItemCreate
from scishare.catalog.service import register_instrument
from tests.accounts.factories import WHEN, an_organisation

_serial = count(1)


def a_service_item(**overrides: object) -> ServiceItemCreate:
    values: dict[str, object] = {"name_zh": "常规测试", "name_en": "Routine test",
                                 "unit": ServiceUnit.SAMPLE, "price_internal_fen": 10_000,
                                 "price_nonprofit_fen": 15_000, "price_enterprise_fen": 30_000}
    values.update(overrides)
    return ServiceItemCreate.model_validate(values)


def an_instrument(session: Session, *, organisation: Organisation | None = None,
                  **overrides: object) -> Instrument:
    organisation = organisation or an_organisation(session)
    n = next(_serial)
    values: dict[str, object] = {
        "exchange_id": f"ZZ-{n:07d}", "organisation_id": organisation.id,
        "name_zh": "X射线衍射仪", "name_en": "X-ray diffractometer", "model": "D8 ADVANCE",
        "manufacturer": "Bruker", "class_code": "0103", "technique_codes": ["XRD"],
        "original_value_fen": 150_000_000, "region_code": organisation.region_code,
        "service_items": [a_service_item()],
    }
    values.update(overrides)
    return register_instrument(session, InstrumentCreate.model_validate(values), actor=SYSTEM,
                               now=WHEN)
