"""Fee rules: prices by user category and purpose, the cost-recovery calculator, and the one
place where billing rounds (half up, to the fen)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize
from scishare.billing.errors import BadAmount, BadRatio
from scishare.billing.models import FeeRule
from scishare.booking.models import PriceCategory
from scishare.catalog.models import Instrument

BPS = 10_000


class Purpose(StrEnum):
    RESEARCH = "research"
    """科研 — research and development."""
    TEACHING = "teaching"
    """教学 — teaching and training."""
    PRODUCTION = "production"
    """生产检测 — production or commercial testing."""


def divide_half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded half up to an integer: billing's only rounding."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(numerator, denominator)
    return quotient + (1 if 2 * remainder >= denominator else 0)


def share_of(amount_fen: int, rate_bps: int) -> int:
    """`rate_bps` basis points of `amount_fen`, half up."""
    return divide_half_up(amount_fen * rate_bps, BPS)


def require_fen(value: object, *, record: str, field: str, positive: bool = False) -> int:
    """An amount must be a whole number of fen, not negative (or positive when asked)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadAmount(f"must be a whole number of fen, got {value!r}", record=record,
                        field=field)
    if value < 0 or (positive and value == 0):
        raise BadAmount("must be more than zero" if positive else "must not be negative",
                        record=record, field=field)
    return value


def require_bps(value: object, *, record: str, field: str, allow_zero: bool = True) -> int:
    """A rate must be whole basis points from 0 (or 1) to 10,000 (100%)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRatio(f"must be whole basis points, got {value!r}", record=record, field=field)
    if value > BPS:
        raise BadRatio("must not exceed 10000 basis points (100%)", record=record, field=field)
    if value < 0 or (value == 0 and not allow_zero):
        raise BadRatio("must be more than zero" if value == 0 else "must not be negative",
                       record=record, field=field)
    return value


def line_price(unit_price_fen: int, *, minutes: int | None, samples: int | None) -> int:
    """Unit price × quantity: hours of machine time (half up to the fen) or samples."""
    if minutes is not None:
        return divide_half_up(unit_price_fen * minutes, 60)
    return unit_price_fen * (samples or 0)


@dataclass(frozen=True)
class CostBuildUp:
    """The cost of one hour of an instrument (收费测算), all in fen except the rates."""

    consumables_fen: int
    staff_fen: int
    original_value_fen: int
    depreciation_years: int
    rated_hours: int
    maintenance_bps: int = 600
    other_fen: int = 0
    management_bps: int = 1_000


@dataclass(frozen=True)
class CostRecoveryPrice:
    depreciation_fen: int
    maintenance_fen: int
    direct_fen: int
    management_fen: int
    hourly_price_fen: int


def propose_nonprofit_price(cost: CostBuildUp) -> CostRecoveryPrice:
    """Cost recovery without profit: consumables + staff + depreciation share over the rated
    hours + maintenance (a yearly share of the original value over the rated hours) + other,
    plus the management fee."""
    record = "cost build-up"
    for field in ("consumables_fen", "staff_fen", "original_value_fen", "other_fen"):
        require_fen(getattr(cost, field), record=record, field=field)
    for field in ("depreciation_years", "rated_hours"):
        require_fen(getattr(cost, field), record=record, field=field, positive=True)
    require_bps(cost.maintenance_bps, record=record, field="maintenance_bps")
    require_bps(cost.management_bps, record=record, field="management_bps")
    depreciation = divide_half_up(cost.original_value_fen,
                                  cost.depreciation_years * cost.rated_hours)
    maintenance = divide_half_up(cost.original_value_fen * cost.maintenance_bps,
                                 BPS * cost.rated_hours)
    direct = cost.consumables_fen + cost.staff_fen + depreciation + maintenance + cost.other_fen
    management = share_of(direct, cost.management_bps)
    return CostRecoveryPrice(depreciation_fen=depreciation, maintenance_fen=maintenance,
                             direct_fen=direct, management_fen=management,
                             hourly_price_fen=direct + management)


def set_fee_rule(session: Session, *, instrument: Instrument, service_item_id: int,
                 category: PriceCategory, purpose: Purpose | None, unit_price_fen: int,
                 valid_from: datetime, actor: Actor, now: datetime) -> FeeRule:
    """Add a price from `valid_from` on; earlier rules stay, so booked orders keep theirs."""
    record = f"fee rule of {instrument.exchange_id}"
    authorize(actor, Action.EDIT_INSTRUMENT, Target(
        organisation_id=instrument.organisation_id, region_code=instrument.region_code),
        record=record)
    if all(item.id != service_item_id for item in instrument.service_items):
        raise BadAmount(f"instrument has no service item {service_item_id}", record=record,
                        field="service_item_id")
    require_fen(unit_price_fen, record=record, field="unit_price_fen")
    rule = FeeRule(service_item_id=service_item_id, category=PriceCategory(category).value,
                   purpose=purpose.value if purpose else "", unit_price_fen=unit_price_fen,
                   valid_from=valid_from, created_at=now, created_by_id=actor.account_id or None)
    session.add(rule)
    session.flush()
    return rule


def rules_for(session: Session, service_item_ids: Iterable[int]) -> dict[int, list[FeeRule]]:
    """Every fee rule of the items, newest first per item."""
    ids = sorted(set(service_item_ids))
    found: dict[int, list[FeeRule]] = {}
    if not ids:
        return found
    for rule in session.scalars(select(FeeRule).where(FeeRule.service_item_id.in_(ids))
                                .order_by(FeeRule.valid_from.desc(), FeeRule.id.desc())):
        found.setdefault(rule.service_item_id, []).append(rule)
    return found


def rule_in_force(rules: list[FeeRule], *, category: str, purpose: str,
                  at: datetime) -> FeeRule | None:
    """The newest rule for the category valid at `at`: one for the purpose before a general."""
    general: FeeRule | None = None
    for rule in rules:
        if rule.category != category or rule.valid_from > at:
            continue
        if purpose and rule.purpose == purpose:
            return rule
        if rule.purpose == "" and general is None:
            general = rule
    return general
