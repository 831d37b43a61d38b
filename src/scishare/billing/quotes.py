"""Price quotes (报价): what a booking would cost before it is made — the list price for the
user's category, the part their voucher quota would pay, and the part left to them.

A quote runs settlement's own pricing on the booking as it would be settled (`price_all`,
`apply_vouchers`, `apply_insurance`), inside a savepoint that is rolled back, so a quote and
the settlement that follows cannot disagree and a quote never posts, commits or keeps any
budget or quota. It takes no locks: the money is counted for real, under locks, at settlement,
and a quota spent in between pays less then.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from scishare.accounts.service import Actor, get_organisation
from scishare.billing.models import FeeRule, SourceKind
from scishare.billing.settlement import apply_insurance, apply_vouchers, local_day, price_all
from scishare.billing.sources import SourceFacts
from scishare.billing.vouchers import quota_left
from scishare.booking.service import estimate_for
from scishare.catalog.models import Instrument, ServiceUnit


class Quote(BaseModel):
    """A booking priced as settlement would price it now; amounts in fen.

    `user_fen` is what the user pays for the service (plus `premium_fen` of shared-use cover,
    when it applies); in pay-then-reimburse programmes (`mode` "reimburse") the user pays the
    list price first and the voucher part comes back afterwards. Nothing is reserved: the
    quota is counted at settlement."""

    model_config = ConfigDict(frozen=True)

    service_item_id: int
    category: str = Field(description="internal, nonprofit or enterprise")
    unit: str
    unit_price_fen: int
    quantity: str
    list_price_fen: int
    fee_rule_id: int | None
    voucher_fen: int
    user_fen: int
    premium_fen: int
    year: int = Field(description="The quota year the voucher part is drawn from.")
    programme_code: str | None = None
    programme_name_zh: str = ""
    programme_name_en: str = ""
    ratio_bps: int | None = None
    mode: str | None = Field(default=None,
                             description="direct (无感直兑) or reimburse (先付后补)")
    quota_left_fen: int | None = Field(default=None,
                                       description="The quota left before this booking.")

    @property
    def has_voucher(self) -> bool:
        return self.voucher_fen > 0


def quote_price(session: Session, *, instrument: Instrument, service_item_id: int,
                actor: Actor, now: datetime, minutes: int | None = None,
                samples: int | None = None, served_at: datetime | None = None,
                purpose: str = "", self_operated: bool = False) -> Quote:
    """The price of `minutes` of machine time or `samples` tests for the actor, split as
    settlement would split it if the service ended at `served_at` (default `now`): the fee
    rule in force now, the first eligible approved voucher quota, the insurance premium."""
    estimated = estimate_for(session, instrument=instrument, service_item_id=service_item_id,
                             actor=actor, minutes=minutes, samples=samples)
    customer = get_organisation(session, actor.organisation_id)
    served = served_at or now
    hourly = estimated.unit is ServiceUnit.HOUR
    facts = SourceFacts(
        kind=SourceKind.RESERVATION if hourly else SourceKind.ORDER, id=0,
        instrument_id=instrument.id, service_item_id=service_item_id,
        class_code=instrument.class_code, provider_id=instrument.organisation_id,
        provider_region=instrument.region_code, customer_id=customer.id,
        customer_type=str(customer.org_type), customer_region=customer.region_code,
        category=estimated.category.value, purpose=purpose.strip(),
        self_operated=self_operated, estimate_fen=estimated.total_fen,
        minutes=minutes if hourly else None, samples=None if hourly else samples,
        booked_at=now, served_at=served, status="quoted")
    # Settlement's own steps, then undone: they move the programme's and the quota's counters
    # as a settlement would, and the rollback of the savepoint puts both back.
    savepoint = session.begin_nested()
    try:
        [priced] = price_all(session, [facts])
        apply_vouchers(session, [priced], lock=False)
        apply_insurance(session, [priced])
        programme = priced.terms.programme if priced.terms is not None else None
        rule = None if priced.fee_rule_id is None else session.get(FeeRule, priced.fee_rule_id)
        quote = Quote(
            service_item_id=service_item_id, category=estimated.category.value,
            unit=estimated.unit.value,
            unit_price_fen=estimated.unit_price_fen if rule is None else rule.unit_price_fen,
            quantity=estimated.quantity, list_price_fen=priced.list_price_fen,
            fee_rule_id=priced.fee_rule_id, voucher_fen=priced.voucher_fen,
            user_fen=priced.user_fen, premium_fen=priced.premium_fen,
            year=local_day(served).year,
            programme_code=programme.code if programme else None,
            programme_name_zh=programme.name_zh if programme else "",
            programme_name_en=programme.name_en if programme else "",
            ratio_bps=programme.ratio_bps if programme else None,
            mode=priced.mode.value if priced.mode else None,
            # The counters already hold this order's voucher part: what was left before it.
            quota_left_fen=(None if priced.quota is None or programme is None else
                            quota_left(priced.quota, programme) + priced.voucher_fen))
    finally:
        savepoint.rollback()
    return quote
