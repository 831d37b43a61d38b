"""A small Henan catalog with Chinese names, built through the services for the web tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from scishare.accounts.models import Account, Organisation, OrganisationType, Role
from scishare.accounts.service import SYSTEM
from scishare.booking.schemas import BookingPolicyUpdate, OpeningPeriodSpec
from scishare.booking.service import set_booking_policy
from scishare.catalog.models import Instrument, ServiceUnit
from tests.accounts.factories import an_account, an_organisation
from tests.catalog.factories import a_service_item, an_instrument

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Catalog:
    university: Organisation
    institute: Organisation
    xrd: Instrument
    sem: Instrument
    icpms: Instrument


def henan_catalog(session: Session, *, tag: str = "") -> Catalog:
    """Two organisations and three instruments; `tag` keeps codes unique."""
    university = an_organisation(
        session, code=f"ZZU{tag}", name_zh=f"郑州大学{tag}", name_en=f"Zhengzhou University{tag}",
        org_type=OrganisationType.UNIVERSITY, cma_number="CMA-2019-0001")
    institute = an_organisation(
        session, code=f"HNAS{tag}", name_zh=f"河南省科学院{tag}",
        name_en=f"Henan Academy of Sciences{tag}", org_type=OrganisationType.INSTITUTE)
    xrd = an_instrument(
        session, organisation=university, exchange_id=f"ZZ{tag}-0000101", name_zh="X射线衍射仪",
        name_en="X-ray diffractometer", model="D8 ADVANCE", manufacturer="Bruker",
        class_code="0103", technique_codes=["XRD", "XRF"], latitude=34.8165,
        longitude=113.5355, address="郑州市高新区科学大道100号", has_cma=True,
        service_items=[
            a_service_item(name_zh="物相分析", name_en="Phase analysis"),
            a_service_item(name_zh="机时使用", name_en="Machine time", unit=ServiceUnit.HOUR,
                           price_internal_fen=20_000, price_nonprofit_fen=30_000,
                           price_enterprise_fen=60_000)])
    sem = an_instrument(
        session, organisation=university, exchange_id=f"ZZ{tag}-0000102",
        name_zh="场发射扫描电子显微镜", name_en="Field-emission scanning electron microscope",
        model="Sigma 500", manufacturer="Zeiss", class_code="0101",
        technique_codes=["SEM_EDS"], service_items=[a_service_item(
            name_zh="形貌观察", name_en="Morphology imaging", price_enterprise_fen=50_000)])
    icpms = an_instrument(
        session, organisation=institute, exchange_id=f"ZZ{tag}-0000201",
        name_zh="电感耦合等离子体质谱仪", name_en="ICP mass spectrometer", model="iCAP RQ",
        manufacturer="Thermo Fisher", class_code="0102", technique_codes=["ICPMS"],
        is_open_external=False)
    return Catalog(university=university, institute=institute, xrd=xrd, sem=sem, icpms=icpms)


def a_person(session: Session, organisation: Organisation, role: Role, email: str) -> Account:
    """Someone who signs in with `PASSWORD`; each costs a password hash, so make few."""
    return an_account(session, organisation=organisation, roles=(role,), email=email,
                      password=PASSWORD)


def open_round_the_clock(session: Session, instrument: Instrument) -> None:
    """Bookable at any hour of any day for 30 days ahead: browser tests run on the real
    clock, whenever CI happens to run them."""
    set_booking_policy(session, instrument=instrument, policy=BookingPolicyUpdate(
        slot_minutes=30, min_minutes=30, max_minutes=480, lead_minutes=0, horizon_days=30,
        opening_hours=[OpeningPeriodSpec(weekday=day, opens="00:00", closes="24:00")
                       for day in range(7)]), actor=SYSTEM, now=instrument.created_at)
