"""Demand subscriptions: the service finds the user (服务找用户).

An enterprise saves a need. A worker (`scishare matching worker`) regularly matches every
instrument added, reopened or changed since a subscription was last checked against it; an
offer scoring at or above the subscription's threshold becomes one notification for the
subscriber (in-app) and one e-mail in the outbox. The unique (subscription, instrument) key
means a later edit of the same instrument never notifies twice.

The score of a single instrument is its best technique's chance of being right for the need — the
same technique evidence `match` ranks by, without the catalog-relative instrument terms, so
that it does not depend on what else is in the catalog.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scishare.accounts.models import Account
from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize, get_account, get_organisation
from scishare.catalog.models import Instrument, InstrumentTechnique, ServiceItem
from scishare.core.money import Money
from scishare.knowledge.service import load_graph, require_loaded
from scishare.matching.catalog_index import OFFERABLE
from scishare.matching.embedding import stored_query
from scishare.matching.errors import UnknownSubscription
from scishare.matching.explain import explain
from scishare.matching.models import DemandNotification, DemandSubscription, NotificationEmail
from scishare.matching.ranking import DEFAULT_WEIGHTS, Weights, technique_chances
from scishare.matching.schemas import (
    MatchRequest,
    NotificationRead,
    SubscriptionCreate,
    UserCategory,
)
from scishare.matching.service import check_request, technique_scorer
from scishare.matching.text import language
from scishare.regions.service import get_region, region_and_descendants

RECORD = "demand subscription"


def subscribe(session: Session, data: SubscriptionCreate, *, actor: Actor,
              now: datetime) -> DemandSubscription:
    """Save a need for the actor; only catalog changes from now on are matched against it."""
    account = get_account(session, actor.account_id)
    organisation = get_organisation(session, account.organisation_id)
    authorize(actor, Action.SUBSCRIBE_DEMAND, Target(organisation_id=organisation.id,
                                                     region_code=organisation.region_code),
              record=RECORD)
    need = check_request(MatchRequest(need=data.need, region_code=data.region_code,
                                      budget_fen=data.budget_fen))
    if data.region_code is not None:
        get_region(session, data.region_code)
    subscription = DemandSubscription(
        account_id=account.id, organisation_id=organisation.id, need=need,
        region_code=data.region_code, budget_fen=data.budget_fen,
        user_category=data.user_category, require_cma=data.require_cma,
        require_cnas=data.require_cnas, threshold=data.threshold, is_active=True,
        created_at=now, checked_until=now)
    session.add(subscription)
    session.flush()
    return subscription


def _own(session: Session, subscription_id: int, actor: Actor) -> DemandSubscription:
    subscription = session.get(DemandSubscription, subscription_id)
    if subscription is None or subscription.account_id != actor.account_id:
        raise UnknownSubscription(f"no subscription {subscription_id}",
                                  record=f"{RECORD} {subscription_id}", field="id")
    return subscription


def unsubscribe(session: Session, subscription_id: int, *, actor: Actor) -> None:
    """Stop matching a saved need; its notifications stay readable."""
    _own(session, subscription_id, actor).is_active = False
    session.flush()


def subscriptions_of(session: Session, *, actor: Actor) -> list[DemandSubscription]:
    return list(session.scalars(select(DemandSubscription).where(
        DemandSubscription.account_id == actor.account_id).order_by(
        DemandSubscription.id.desc())))


def notifications_of(session: Session, *, actor: Actor, unread_only: bool = False,
                     limit: int = 50) -> list[NotificationRead]:
    """The actor's notifications, newest first, with the instrument named."""
    query = (select(DemandNotification, Instrument.exchange_id, Instrument.name_zh)
             .join(Instrument, Instrument.id == DemandNotification.instrument_id)
             .where(DemandNotification.account_id == actor.account_id)
             .order_by(DemandNotification.id.desc()).limit(limit))
    if unread_only:
        query = query.where(DemandNotification.read_at.is_(None))
    return [NotificationRead.model_validate(n).model_copy(update={
        "instrument_exchange_id": exchange_id, "instrument_name_zh": name})
        for n, exchange_id, name in session.execute(query)]


def mark_read(session: Session, notification_id: int, *, actor: Actor, now: datetime) -> None:
    notification = session.get(DemandNotification, notification_id)
    if notification is None or notification.account_id != actor.account_id:
        raise UnknownSubscription(f"no notification {notification_id}",
                                  record=f"notification {notification_id}", field="id")
    notification.read_at = notification.read_at or now
    session.flush()


@dataclass(frozen=True)
class Candidate:
    """A changed instrument as the subscription check sees it."""

    id: int
    exchange_id: str
    name_zh: str
    region_code: str
    is_open: bool
    has_cma: bool
    has_cnas: bool
    techniques: tuple[str, ...]
    prices: dict[UserCategory, list[tuple[int, int]]]
    updated_at: datetime


def _changed_since(session: Session, since: datetime, until: datetime) -> list[Candidate]:
    rows = session.execute(select(
        Instrument.id, Instrument.exchange_id, Instrument.name_zh, Instrument.region_code,
        Instrument.is_open_external, Instrument.has_cma, Instrument.has_cnas,
        Instrument.updated_at).where(
        Instrument.updated_at > since, Instrument.updated_at <= until,
        Instrument.lifecycle_state.in_([s.value for s in OFFERABLE]))).all()
    ids = [r.id for r in rows]
    techniques: dict[int, list[str]] = defaultdict(list)
    prices: dict[int, dict[UserCategory, list[tuple[int, int]]]] = defaultdict(
        lambda: defaultdict(list))
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        for instrument_id, code in session.execute(
                select(InstrumentTechnique.instrument_id, InstrumentTechnique.technique_code)
                .where(InstrumentTechnique.instrument_id.in_(chunk))
                .order_by(InstrumentTechnique.position)):
            techniques[instrument_id].append(code)
        for item in session.execute(select(
                ServiceItem.id, ServiceItem.instrument_id, ServiceItem.price_internal_fen,
                ServiceItem.price_nonprofit_fen, ServiceItem.price_enterprise_fen).where(
                ServiceItem.instrument_id.in_(chunk), ServiceItem.is_active.is_(True))):
            for category, price in ((UserCategory.INTERNAL, item.price_internal_fen),
                                    (UserCategory.NONPROFIT, item.price_nonprofit_fen),
                                    (UserCategory.ENTERPRISE, item.price_enterprise_fen)):
                prices[item.instrument_id][category].append((price, item.id))
    return [Candidate(id=r.id, exchange_id=r.exchange_id, name_zh=r.name_zh,
                      region_code=r.region_code, is_open=r.is_open_external,
                      has_cma=r.has_cma, has_cnas=r.has_cnas,
                      techniques=tuple(techniques[r.id]), prices=dict(prices[r.id]),
                      updated_at=r.updated_at) for r in rows]


def _affordable(candidate: Candidate,
                subscription: DemandSubscription) -> tuple[bool, int | None]:
    """Whether the instrument fits the budget, and the service item to point at (the
    cheapest that fits)."""
    items = sorted(candidate.prices.get(UserCategory(subscription.user_category), []))
    if subscription.budget_fen is not None:
        items = [i for i in items if i[0] <= subscription.budget_fen]
        if not items:
            return False, None
    return True, items[0][1] if items else None


def check_subscriptions(session: Session, *, now: datetime,
                        weights: Weights = DEFAULT_WEIGHTS) -> list[DemandNotification]:
    """Match catalog changes since each active subscription's last check; notify once per
    (subscription, instrument) at or above its threshold; queue an e-mail for each."""
    subscriptions = list(session.scalars(select(DemandSubscription).where(
        DemandSubscription.is_active.is_(True)).order_by(DemandSubscription.id)))
    if not subscriptions:
        return []
    require_loaded(session)
    graph = load_graph(session)
    scorer = technique_scorer(session, graph)
    earliest = min(s.checked_until for s in subscriptions)
    changed = _changed_since(session, earliest, now)
    created: list[DemandNotification] = []
    region_cache: dict[str, set[str]] = {}
    for subscription in subscriptions:
        fresh = [c for c in changed if c.updated_at > subscription.checked_until]
        subscription.checked_until = now
        if not fresh:
            continue
        vector = stored_query(session, subscription.need)
        evidence = scorer.evidence(subscription.need, vector)
        technique_scores = evidence.features @ np.asarray(weights.technique)
        chances = technique_chances(technique_scores, weights)
        if subscription.region_code and subscription.region_code not in region_cache:
            region_cache[subscription.region_code] = set(
                region_and_descendants(session, subscription.region_code))
        already = set(session.scalars(select(DemandNotification.instrument_id).where(
            DemandNotification.subscription_id == subscription.id)))
        for candidate in fresh:
            if candidate.id in already or not candidate.is_open:
                continue
            if (subscription.require_cma and not candidate.has_cma) or (
                    subscription.require_cnas and not candidate.has_cnas):
                continue
            if subscription.region_code and candidate.region_code not in region_cache[
                    subscription.region_code]:
                continue
            fits, item = _affordable(candidate, subscription)
            if not fits:
                continue
            best, technique = -np.inf, ""
            for slot, code in enumerate(candidate.techniques):
                if code in scorer.position:
                    value = technique_scores[scorer.position[code]] - (
                        weights.secondary_technique if slot else 0.0)
                    if value > best:
                        best, technique = value, code
            if not technique:
                continue
            score = float(chances[scorer.position[technique]])
            if score < subscription.threshold:
                continue
            paths, _ = explain(graph, evidence, technique, lang=language(subscription.need),
                               instrument_words=[])
            notification = DemandNotification(
                subscription_id=subscription.id, account_id=subscription.account_id,
                instrument_id=candidate.id, service_item_id=item,
                score=round(score, 3), reason="catalog_change",
                explanation="\n".join(paths), created_at=now)
            session.add(notification)
            session.flush()
            _queue_email(session, notification, subscription, candidate, technique, now=now)
            created.append(notification)
    session.flush()
    return created


def _queue_email(session: Session, notification: DemandNotification,
                 subscription: DemandSubscription, candidate: Candidate, technique: str, *,
                 now: datetime) -> None:
    account: Account = get_account(session, subscription.account_id)
    price = ""
    if notification.service_item_id is not None:
        item = session.get(ServiceItem, notification.service_item_id)
        if item is not None:
            fen = {UserCategory.INTERNAL: item.price_internal_fen,
                   UserCategory.NONPROFIT: item.price_nonprofit_fen,
                   UserCategory.ENTERPRISE: item.price_enterprise_fen}[
                UserCategory(subscription.user_category)]
            price = f"\n服务项目：{item.name_zh}，¥{Money(fen)}/{item.unit}"
    body = (f"{account.display_name}，您好：\n\n您订阅的需求“{subscription.need}”有了新的匹配："
            f"\n仪器：{candidate.name_zh}（{candidate.exchange_id}），技术：{technique}，"
            f"匹配度 {notification.score:.2f}{price}\n\n匹配依据：\n{notification.explanation}"
            "\n\n—— SciShare 大型科学仪器共享平台")
    session.add(NotificationEmail(
        notification_id=notification.id, to_address=account.email,
        subject=f"SciShare：新的服务匹配您的需求（{candidate.exchange_id}）", body=body,
        created_at=now, attempts=0, last_error=""))


def unread_count(session: Session, *, actor: Actor) -> int:
    return session.scalar(select(func.count()).select_from(DemandNotification).where(
        DemandNotification.account_id == actor.account_id,
        DemandNotification.read_at.is_(None))) or 0
