"""Matching needs to offers, demand subscriptions, unmet demand and knowledge-graph edits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import Response
from pydantic import BaseModel

from scishare.knowledge.models import NodeKind
from scishare.knowledge.schemas import (
    AliasCreate,
    LinkCreate,
    LinkRead,
    NeighbourRead,
    NodeKey,
)
from scishare.knowledge.service import add_alias, add_link, neighbours
from scishare.matching.schemas import (
    MatchRequest,
    MatchResult,
    NotificationRead,
    SubscriptionCreate,
    SubscriptionRead,
    UnmetReport,
)
from scishare.matching.service import ask, choose_offer
from scishare.matching.subscriptions import (
    mark_read,
    notifications_of,
    subscribe,
    subscriptions_of,
    unsubscribe,
)
from scishare.matching.unmet import unmet_report, unmet_xlsx
from scishare.web.api.common import errors
from scishare.web.deps import ClockDep, CurrentUser, OptionalUser, SessionDep

router = APIRouter()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("/match", tags=["matching"], summary="Match a need to offers",
             responses=errors(422))
def match_need(session: SessionDep, request: MatchRequest, user: OptionalUser,
               now: ClockDep) -> MatchResult:
    """Ranked offers (instrument + service item) for a need in Chinese or English.

    Each offer carries the knowledge-graph path that led to it (`explanation`, e.g.
    `锂电池正极材料 -> 晶体结构/物相组成 -> XRD`) and the words that matched. Constraints:
    `region_code` with `region_mode` `within` (the region and the regions below it) or
    `nearest` (nearer first); `budget_fen` for the `user_category` price; `require_cma`,
    `require_cnas`; `open_external_only`. The need is recorded for the unmet-demand monitor.
    """
    return ask(session, request, asker=user.account if user else None, now=now)


class Choice(BaseModel):
    instrument_id: str


@router.post("/match/{need_id}/choice", tags=["matching"], summary="Record the chosen offer",
             status_code=status.HTTP_204_NO_CONTENT, responses=errors(404))
def choose(session: SessionDep, need_id: Annotated[int, Path()], choice: Choice,
           user: OptionalUser, now: ClockDep) -> None:
    choose_offer(session, need_id=need_id, instrument_exchange_id=choice.instrument_id,
                 asker=user.account if user else None, now=now)


@router.post("/subscriptions", tags=["matching"], summary="Save a need as a subscription",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 422))
def save_subscription(session: SessionDep, user: CurrentUser, data: SubscriptionCreate,
                      now: ClockDep) -> SubscriptionRead:
    """New or changed instruments that match the need at or above `threshold` are pushed to
    the subscriber as notifications (and e-mail when SMTP is configured)."""
    return SubscriptionRead.model_validate(subscribe(session, data, actor=user.actor, now=now))


@router.get("/subscriptions", tags=["matching"], summary="My subscriptions",
            responses=errors(401))
def my_subscriptions(session: SessionDep, user: CurrentUser) -> list[SubscriptionRead]:
    return [SubscriptionRead.model_validate(s)
            for s in subscriptions_of(session, actor=user.actor)]


@router.delete("/subscriptions/{subscription_id}", tags=["matching"],
               summary="Stop a subscription", status_code=status.HTTP_204_NO_CONTENT,
               responses=errors(401, 404))
def stop_subscription(session: SessionDep, user: CurrentUser,
                      subscription_id: Annotated[int, Path()]) -> None:
    unsubscribe(session, subscription_id, actor=user.actor)


@router.get("/notifications", tags=["matching"], summary="My notifications",
            responses=errors(401))
def my_notifications(session: SessionDep, user: CurrentUser,
                     unread: bool = False) -> list[NotificationRead]:
    return notifications_of(session, actor=user.actor, unread_only=unread)


@router.post("/notifications/{notification_id}/read", tags=["matching"],
             summary="Mark a notification read", status_code=status.HTTP_204_NO_CONTENT,
             responses=errors(401, 404))
def read_notification(session: SessionDep, user: CurrentUser, now: ClockDep,
                      notification_id: Annotated[int, Path()]) -> None:
    mark_read(session, notification_id, actor=user.actor, now=now)


def _period(now: datetime, since: datetime | None, until: datetime | None
            ) -> tuple[datetime, datetime]:
    until = until or now
    return since or until - timedelta(days=365), until


@router.get("/unmet-demand", tags=["matching"], summary="Unmet demand in a region",
            responses=errors(401, 403, 404, 422))
def unmet(session: SessionDep, user: CurrentUser, now: ClockDep,
          region: Annotated[str, Query(pattern=r"^\d{6}$")],
          since: datetime | None = None, until: datetime | None = None) -> UnmetReport:
    """Needs whose best offer scored below the threshold, by month, technique, industry and
    region (bureau officers of the region, platform admins)."""
    start, end = _period(now, since, until)
    return unmet_report(session, actor=user.actor, region_code=region, since=start, until=end)


@router.get("/unmet-demand.xlsx", tags=["matching"], summary="Unmet demand as XLSX",
            responses=errors(401, 403, 404, 422))
def unmet_export(session: SessionDep, user: CurrentUser, now: ClockDep,
                 region: Annotated[str, Query(pattern=r"^\d{6}$")],
                 since: datetime | None = None, until: datetime | None = None) -> Response:
    start, end = _period(now, since, until)
    report = unmet_report(session, actor=user.actor, region_code=region, since=start,
                          until=end)
    return Response(unmet_xlsx(report, region_code=region), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="unmet-demand-{region}.xlsx"'})


@router.get("/knowledge/{kind}/{code}/neighbours", tags=["knowledge"],
            summary="Neighbours of a graph node", responses=errors(404))
def node_neighbours(session: SessionDep, kind: NodeKind, code: str) -> list[NeighbourRead]:
    return neighbours(session, node=NodeKey(kind=kind, code=code))


class AliasRead(BaseModel):
    id: int
    text: str


@router.post("/knowledge/aliases", tags=["knowledge"], summary="Add an alias",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 404, 409, 422))
def new_alias(session: SessionDep, user: CurrentUser, data: AliasCreate,
              now: ClockDep) -> AliasRead:
    """Platform admins add a word users type for a node; who and when are recorded."""
    alias = add_alias(session, data, actor=user.actor, now=now)
    return AliasRead(id=alias.id, text=alias.text)


@router.post("/knowledge/links", tags=["knowledge"], summary="Add a link",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 404, 409, 422))
def new_link(session: SessionDep, user: CurrentUser, data: LinkCreate,
             now: ClockDep) -> LinkRead:
    """Platform admins add a typed, weighted link between existing nodes."""
    return LinkRead.model_validate(add_link(session, data, actor=user.actor, now=now))
