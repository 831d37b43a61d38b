"""Billing test data, built through the services: two regions, providers with instruments,
an enterprise with a voucher quota, and completed reservations to settle."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scishare.accounts.models import Organisation, OrganisationType, Role
from scishare.accounts.service import SYSTEM, Actor
from scishare.billing.models import (
    ClearingStatement,
    CrossRegionItem,
    InsuranceClaim,
    Journal,
    MoneyAudit,
    Posting,
    RedemptionMode,
    Settlement,
    SourceKind,
    VoucherProgramme,
    VoucherQuota,
)
from scishare.billing.vouchers import apply_for_quota, approve_quota, define_programme
from scishare.booking.models import OperationMode, Reservation
from scishare.booking.schemas import QualificationCreate
from scishare.booking.service import check_in, finish_reservation, grant_qualification, reserve
from scishare.catalog.models import Instrument, ServiceUnit
from scishare.core.errors import SciShareError
from scishare.regions.schemas import RegionCreate
from scishare.regions.service import register_region
from tests.booking.factories import (
    a_bookable_instrument,
    a_key,
    a_person,
    a_policy,
    every_day,
    item_of,
    shanghai,
)

ZHENGZHOU, SHANGHAI = "410100", "310100"


def shanghai_region(session: Session) -> None:
    register_region(session, RegionCreate(code="310000", name_zh="上海市", name_en="Shanghai",
                                          latitude=31.23, longitude=121.47))
    register_region(session, RegionCreate(code=SHANGHAI, name_zh="上海市辖区",
                                          name_en="Shanghai city", parent_code="310000",
                                          latitude=31.23, longitude=121.47))


@dataclass
class Site:
    """A provider with one bookable instrument (machine time 800 yuan an hour for
    enterprises) and its operator."""

    provider: Organisation
    instrument: Instrument
    operator: Actor


@dataclass
class Market:
    home: Site
    far: Site
    enterprise: Organisation
    user: Actor
    officer: Actor
    slots: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def a_site(session: Session, *, region_code: str) -> Site:
    from tests.accounts.factories import an_organisation

    if region_code == SHANGHAI:
        shanghai_region(session)
    provider = an_organisation(session, org_type=OrganisationType.UNIVERSITY,
                               region_code=region_code)
    instrument = a_bookable_instrument(session, organisation=provider, policy=a_policy(
        opening_hours=every_day(), horizon_days=365))
    operator = a_person(session, organisation=provider, roles=(Role.OPERATOR,))
    return Site(provider=provider, instrument=instrument, operator=operator)


def an_officer(session: Session, region_code: str = ZHENGZHOU) -> Actor:
    from scishare.accounts.service import actor_for, get_account
    from tests.accounts.factories import an_account

    account = an_account(session, roles=(Role.BUREAU_OFFICER,), region_code=region_code)
    return actor_for(get_account(session, account.id))


def a_market(session: Session) -> Market:
    from tests.accounts.factories import an_organisation

    home = a_site(session, region_code=ZHENGZHOU)
    far = a_site(session, region_code=SHANGHAI)
    enterprise = an_organisation(session, org_type=OrganisationType.ENTERPRISE)
    user = a_person(session, organisation=enterprise)
    return Market(home=home, far=far, enterprise=enterprise, user=user,
                  officer=an_officer(session))


def a_programme(session: Session, market: Market, **overrides: object) -> VoucherProgramme:
    """Zhengzhou's programme: 50% up to 20,000 yuan an order, 100,000 a year, Shanghai a
    partner region, valid through 2027."""
    values: dict[str, object] = {
        "code": f"ZZ-{a_key()[:8]}", "region_code": ZHENGZHOU, "name_zh": "郑州市科技创新券",
        "name_en": "Zhengzhou innovation vouchers", "budget_fen": 100_000_000,
        "ratio_bps": 5_000, "per_order_cap_fen": 2_000_000,
        "per_enterprise_year_cap_fen": 10_000_000, "valid_from": date(2026, 1, 1),
        "valid_until": date(2027, 12, 31), "partner_regions": [SHANGHAI],
        "mode": RedemptionMode.DIRECT}
    values.update(overrides)
    return define_programme(session, **values, actor=market.officer,  # type: ignore[arg-type]
                            now=shanghai(2026, 11, 1))


def a_quota(session: Session, market: Market, programme: VoucherProgramme, *,
            approved_fen: int = 10_000_000, year: int = 2026,
            user: Actor | None = None) -> VoucherQuota:
    quota = apply_for_quota(session, programme=programme, year=year,
                            requested_fen=max(approved_fen, 1), is_sme=True,
                            actor=user or market.user, now=shanghai(2026, 11, 2))
    return approve_quota(session, quota, approved_fen=approved_fen, actor=market.officer,
                         now=shanghai(2026, 11, 3))


def a_completed_reservation(session: Session, market: Market, *, site: Site | None = None,
                            user: Actor | None = None, hours: int = 1, purpose: str = "",
                            mode: OperationMode = OperationMode.ASSISTED,
                            now: datetime | None = None) -> Reservation:
    """Machine time on the next free hours of the site's instrument, used and finished."""
    site = site or market.home
    user = user or market.user
    slot = market.slots[site.instrument.id]
    market.slots[site.instrument.id] += hours
    day, hour = divmod(slot, 12)
    start = shanghai(2026, 11, 25, 8) + timedelta(days=day, hours=hour)
    if hour + hours > 12:
        market.slots[site.instrument.id] = (day + 1) * 12 + hours
        start = shanghai(2026, 11, 25, 8) + timedelta(days=day + 1)
    from scishare.booking.periods import TimeRange

    booked_at = now or shanghai(2026, 11, 24, 9)
    if mode is OperationMode.SELF_OPERATED:
        grant_qualification(session, instrument=site.instrument, data=QualificationCreate(
            account_id=user.account_id, trained_on=date(2026, 11, 1),
            expires_at=shanghai(2027, 11, 1)), actor=site.operator, now=booked_at)
    reservation = reserve(session, instrument=site.instrument,
                          period=TimeRange(start, start + timedelta(hours=hours)), mode=mode,
                          idempotency_key=a_key(), actor=user, now=booked_at,
                          service_item_id=item_of(site.instrument, ServiceUnit.HOUR),
                          purpose=purpose)
    check_in(session, reservation, actor=user, now=start)
    return finish_reservation(session, reservation, actor=site.operator,
                              now=start + timedelta(hours=hours))


def source(reservation: Reservation) -> dict[str, object]:
    return {"kind": SourceKind.RESERVATION, "source_id": reservation.id}


MONEY_TABLES = (Journal, Posting, Settlement, CrossRegionItem, ClearingStatement,
                InsuranceClaim, MoneyAudit, VoucherQuota)


def money_state(session: Session) -> dict[str, object]:
    """Row counts of the money tables and the programme and quota counters."""
    counts: dict[str, object] = {model.__tablename__: session.scalar(
        select(func.count()).select_from(model)) for model in MONEY_TABLES}
    counts["committed"] = sorted(session.execute(select(
        VoucherProgramme.id, VoucherProgramme.committed_fen)).all())
    counts["used"] = sorted(session.execute(select(
        VoucherQuota.id, VoucherQuota.used_fen, VoucherQuota.status)).all())
    counts["refunded"] = sorted(session.execute(select(
        Settlement.id, Settlement.refunded_fen)).all())
    return counts


def refused(session: Session, error: type[SciShareError], field: str | None,
            attempt: Callable[[], object]) -> SciShareError:
    """Run `attempt`, expect `error` naming `field`, and check that no money moved."""
    session.flush()
    before = money_state(session)
    with pytest.raises(error) as caught:
        attempt()
    assert caught.value.field == field
    assert caught.value.record
    assert caught.value.reason
    assert money_state(session) == before
    return caught.value


__all__ = ["SYSTEM"]
