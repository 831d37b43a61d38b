"""Price estimates from a service item's list price for the user's category.

An estimate is what the booking form shows and what the reservation or order remembers; the
fee actually charged is settled later by billing (fee rules, vouchers).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from scishare.accounts.models import Organisation, OrganisationType
from scishare.accounts.service import Actor, get_organisation
from scishare.booking.errors import BadServiceItem
from scishare.booking.models import PriceCategory
from scishare.booking.schemas import PriceEstimate
from scishare.catalog.models import Instrument, ServiceItem, ServiceUnit
from scishare.core.errors import InvalidInput


def price_category(instrument: Instrument, organisation: Organisation) -> PriceCategory:
    """Internal for the owner's own people, enterprise for companies, non-profit otherwise."""
    if organisation.id == instrument.organisation_id:
        return PriceCategory.INTERNAL
    if OrganisationType(organisation.org_type) is OrganisationType.ENTERPRISE:
        return PriceCategory.ENTERPRISE
    return PriceCategory.NONPROFIT


def unit_price_fen(item: ServiceItem, category: PriceCategory) -> int:
    """The item's list price for `category`."""
    return {PriceCategory.INTERNAL: item.price_internal_fen,
            PriceCategory.NONPROFIT: item.price_nonprofit_fen,
            PriceCategory.ENTERPRISE: item.price_enterprise_fen}[category]


def service_item_of(instrument: Instrument, item_id: int, *, unit: ServiceUnit,
                    record: str) -> ServiceItem:
    """The instrument's active service item `item_id` priced per `unit`."""
    item = next((i for i in instrument.service_items if i.id == item_id), None)
    if item is None:
        raise BadServiceItem(f"instrument {instrument.exchange_id} has no service item "
                             f"{item_id}", record=record, field="service_item_id")
    if not item.is_active:
        raise BadServiceItem("this service is not offered at present", record=record,
                             field="service_item_id")
    if ServiceUnit(item.unit) is not unit:
        raise BadServiceItem(f"this service is priced per {item.unit}, not per {unit.value}",
                             record=record, field="service_item_id")
    return item


def hours_fen(price_per_hour_fen: int, minutes: int) -> int:
    """The price of `minutes` at an hourly price, rounded half up to the fen."""
    return (2 * price_per_hour_fen * minutes + 60) // 120


def estimate(item: ServiceItem, category: PriceCategory, *, minutes: int | None = None,
             samples: int | None = None) -> PriceEstimate:
    """List price × quantity: hours of machine time (rounded half up to the fen) or samples."""
    price = unit_price_fen(item, category)
    if ServiceUnit(item.unit) is ServiceUnit.HOUR:
        if minutes is None:
            raise ValueError("an hourly service needs the minutes booked")
        total = hours_fen(price, minutes)
        quantity = str((Decimal(minutes) / 60).quantize(Decimal("0.01")))
    else:
        if samples is None:
            raise ValueError("a per-sample service needs the number of samples")
        total, quantity = price * samples, str(samples)
    return PriceEstimate(service_item_id=item.id, unit=ServiceUnit(item.unit), category=category,
                         unit_price_fen=price, quantity=quantity, total_fen=total)


def estimate_for(session: Session, *, instrument: Instrument, service_item_id: int,
                 actor: Actor, minutes: int | None = None,
                 samples: int | None = None) -> PriceEstimate:
    """What the actor would pay at list price: their category, the item's unit."""
    record = f"instrument {instrument.exchange_id}"
    item = next((i for i in instrument.service_items if i.id == service_item_id), None)
    if item is None:
        raise BadServiceItem(f"instrument {instrument.exchange_id} has no service item "
                             f"{service_item_id}", record=record, field="service_item_id")
    unit = ServiceUnit(item.unit)
    quantity = minutes if unit is ServiceUnit.HOUR else samples
    if quantity is None or quantity <= 0:
        field = "minutes" if unit is ServiceUnit.HOUR else "samples"
        raise InvalidInput("give a positive quantity", record=record, field=field)
    category = price_category(instrument, get_organisation(session, actor.organisation_id))
    return estimate(item, category, minutes=minutes, samples=samples)
