"""iCalendar feeds: per instrument (public: booked and blocked, without names) and per person
(their own reservations), for calendar applications that subscribe by URL.

A person's feed address carries a secret of its own, not a sign-in token: it can be shared
with a calendar service, shows only that person's bookings, and can be replaced at any time.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from scishare.booking.models import (
    Blackout,
    CalendarFeed,
    Reservation,
    ReservationStatus,
)
from scishare.catalog.models import Instrument
from scishare.core.errors import Unauthenticated

FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=366)
PRODUCT_ID = "-//SciShare//Instrument booking//ZH"
SHOWN = (ReservationStatus.PENDING, ReservationStatus.CONFIRMED, ReservationStatus.IN_PROGRESS,
         ReservationStatus.COMPLETED)


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    return calendar


def _event(uid: str, *, starts_at: datetime, ends_at: datetime, summary: str, now: datetime,
           status: str, description: str = "", location: str = "") -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", starts_at)
    event.add("dtend", ends_at)
    event.add("summary", summary)
    event.add("status", status)
    if description:
        event.add("description", description)
    if location:
        event.add("location", location)
    return event


def _status(reservation: Reservation) -> str:
    return "TENTATIVE" if reservation.status == ReservationStatus.PENDING else "CONFIRMED"


def instrument_feed(session: Session, *, instrument: Instrument, now: datetime) -> bytes:
    """The instrument's booked and blocked periods from a month ago to a year ahead."""
    since, until = now - FEED_PAST, now + FEED_AHEAD
    calendar = _calendar(f"{instrument.name_zh} {instrument.exchange_id}")
    reservations = session.scalars(select(Reservation).where(
        Reservation.instrument_id == instrument.id, Reservation.status.in_(SHOWN),
        Reservation.starts_at < until, Reservation.ends_at > since)
        .order_by(Reservation.starts_at)).all()
    for reservation in reservations:
        calendar.add_component(_event(
            f"reservation-{reservation.id}@scishare", starts_at=reservation.starts_at,
            ends_at=reservation.ends_at, summary="已预约 Booked", now=now,
            status=_status(reservation), location=instrument.address))
    blackouts = session.scalars(select(Blackout).where(
        Blackout.instrument_id == instrument.id, Blackout.lifted_at.is_(None),
        Blackout.starts_at < until, Blackout.ends_at > since).order_by(Blackout.starts_at))
    for blackout in blackouts:
        calendar.add_component(_event(
            f"blackout-{blackout.id}@scishare", starts_at=blackout.starts_at,
            ends_at=blackout.ends_at, now=now,
            summary=f"停机 Unavailable ({blackout.blackout_kind})", status="CONFIRMED",
            description=blackout.reason, location=instrument.address))
    return bytes(calendar.to_ical())


def account_feed(session: Session, *, account_id: int, now: datetime) -> bytes:
    """A person's own reservations from a month ago to a year ahead."""
    since, until = now - FEED_PAST, now + FEED_AHEAD
    calendar = _calendar("SciShare 我的预约 My reservations")
    reservations = session.scalars(select(Reservation).where(
        Reservation.requester_id == account_id, Reservation.status.in_(SHOWN),
        Reservation.starts_at < until, Reservation.ends_at > since)
        .options(joinedload(Reservation.instrument, innerjoin=True))
        .order_by(Reservation.starts_at)).all()
    for reservation in reservations:
        instrument = reservation.instrument
        calendar.add_component(_event(
            f"reservation-{reservation.id}@scishare", starts_at=reservation.starts_at,
            ends_at=reservation.ends_at,
            summary=f"{instrument.name_zh} {instrument.exchange_id} ({reservation.code})",
            now=now, status=_status(reservation), description=reservation.purpose,
            location=instrument.address))
    return bytes(calendar.to_ical())


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_feed_secret(session: Session, *, account_id: int, now: datetime) -> str:
    """A new secret for the person's feed address; the previous address stops working."""
    session.execute(delete(CalendarFeed).where(CalendarFeed.account_id == account_id))
    secret = secrets.token_urlsafe(24)
    session.add(CalendarFeed(account_id=account_id, secret_hash=_digest(secret),
                             created_at=now))
    session.flush()
    return secret


def account_for_feed(session: Session, secret: str) -> int:
    """The account whose feed address carries `secret`."""
    account_id = session.scalar(select(CalendarFeed.account_id).where(
        CalendarFeed.secret_hash == _digest(secret)))
    if account_id is None:
        raise Unauthenticated("unknown or replaced calendar address", record="calendar feed")
    return account_id
