"""Pages: find a service for a need, saved needs and notifications, unmet demand, and the
knowledge-graph editor for platform admins."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scishare.accounts.permissions import Action, Target
from scishare.core.errors import Conflict, InvalidInput, NotFound
from scishare.core.money import Money
from scishare.knowledge.models import LinkKind, NodeKind
from scishare.knowledge.schemas import AliasCreate, LinkCreate, NodeKey
from scishare.knowledge.service import add_alias, add_link, admin_aliases, admin_links
from scishare.matching.schemas import MatchRequest, MatchResult, RegionMode, SubscriptionCreate
from scishare.matching.service import ask
from scishare.matching.subscriptions import (
    mark_read,
    notifications_of,
    subscribe,
    subscriptions_of,
    unsubscribe,
)
from scishare.matching.unmet import unmet_needs, unmet_report, unmet_xlsx
from scishare.regions.service import list_regions
from scishare.web.deps import CheckedForm, ClockDep, CurrentUser, PageDep, SessionDep
from scishare.web.labels import N_

router = APIRouter()

NOT_AN_AMOUNT = N_("Not an amount in yuan.")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/match", response_class=HTMLResponse)
def find(page: PageDep, session: SessionDep, now: ClockDep, q: str = "", region: str = "",
         nearest: str = "", budget: str = "", cma: str = "", cnas: str = "") -> HTMLResponse:
    """Type a need, see offers with their explanation, price and provider."""
    problems: dict[str, str] = {}
    result: MatchResult | None = None
    budget_fen: int | None = None
    if budget.strip():
        try:
            budget_fen = Money.parse(budget, record="need", field="budget_fen").fen
        except InvalidInput:
            problems["budget_fen"] = page.gettext(NOT_AN_AMOUNT)
    status_code = 200
    if q.strip() and not problems:
        try:
            result = ask(session, MatchRequest(
                need=q, region_code=region or None, budget_fen=budget_fen,
                region_mode=RegionMode.NEAREST if nearest else RegionMode.WITHIN,
                require_cma=bool(cma), require_cnas=bool(cnas), with_next_free=True),
                asker=page.user.account if page.user else None, now=now)
        except InvalidInput as error:
            problems[error.field or "need"] = error.reason
            status_code = 422
    return page.render("matching/find.html", status_code=status_code, result=result,
                       problems=problems, regions=list_regions(session),
                       wanted={"q": q, "region": region, "nearest": nearest,
                               "budget": budget, "cma": cma, "cnas": cnas})


@router.post("/match/subscribe")
def save_need(session: SessionDep, user: CurrentUser, now: ClockDep,
              posted: CheckedForm) -> RedirectResponse:
    need = str(posted.get("q", ""))
    region = str(posted.get("region", "")) or None
    subscribe(session, SubscriptionCreate(need=need, region_code=region),
              actor=user.actor, now=now)
    return RedirectResponse("/match/subscriptions?saved=1", status_code=303)


@router.get("/match/subscriptions", response_class=HTMLResponse)
def my_needs(page: PageDep, session: SessionDep, user: CurrentUser,
             saved: str = "") -> HTMLResponse:
    return page.render("matching/subscriptions.html", saved=bool(saved),
                       subscriptions=subscriptions_of(session, actor=user.actor),
                       notifications=notifications_of(session, actor=user.actor))


@router.post("/match/subscriptions/{subscription_id}/stop")
def stop(session: SessionDep, user: CurrentUser, subscription_id: int,
         posted: CheckedForm) -> RedirectResponse:
    unsubscribe(session, subscription_id, actor=user.actor)
    return RedirectResponse("/match/subscriptions", status_code=303)


@router.post("/match/notifications/{notification_id}/read")
def read(session: SessionDep, user: CurrentUser, now: ClockDep, notification_id: int,
         posted: CheckedForm) -> RedirectResponse:
    mark_read(session, notification_id, actor=user.actor, now=now)
    return RedirectResponse("/match/subscriptions", status_code=303)


def _officer_region(user: CurrentUser, region: str) -> str:
    if region:
        return region
    for grant in user.actor.grants:
        if grant.region_code:
            return grant.region_code
    return "410100"


@router.get("/unmet-demand", response_class=HTMLResponse)
def unmet(page: PageDep, session: SessionDep, user: CurrentUser, now: ClockDep,
          region: str = "", days: int = 365) -> HTMLResponse:
    """Unmet demand over time by technique, industry and region (bureau officers)."""
    code = _officer_region(user, region)
    since = now - timedelta(days=max(1, min(days, 3650)))
    report = unmet_report(session, actor=user.actor, region_code=code, since=since,
                          until=now + timedelta(seconds=1))
    needs = unmet_needs(session, actor=user.actor, region_code=code, since=since,
                        until=now + timedelta(seconds=1), limit=50)
    peak = max((asked for asked, _ in report.by_period.values()), default=0)
    return page.render("matching/unmet.html", report=report, needs=needs, region=code,
                       days=days, peak=peak, regions=list_regions(session))


@router.get("/unmet-demand.xlsx")
def unmet_download(session: SessionDep, user: CurrentUser, now: ClockDep, region: str = "",
                   days: int = 365) -> Response:
    code = _officer_region(user, region)
    report = unmet_report(session, actor=user.actor, region_code=code,
                          since=now - timedelta(days=max(1, min(days, 3650))),
                          until=now + timedelta(seconds=1))
    return Response(unmet_xlsx(report, region_code=code), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="unmet-demand-{code}.xlsx"'})


def _knowledge_page(page: PageDep, session: SessionDep, *, status_code: int = 200,
                    problem: str = "", done: str = "") -> HTMLResponse:
    return page.render("matching/knowledge.html", status_code=status_code, problem=problem,
                       done=done, links=admin_links(session)[:50],
                       aliases=admin_aliases(session)[:50], kinds=list(NodeKind),
                       link_kinds=list(LinkKind))


@router.get("/knowledge", response_class=HTMLResponse)
def knowledge(page: PageDep, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    """Platform admins add aliases and links; each records who added it and when."""
    if not user.actor.may(Action.EDIT_KNOWLEDGE, Target()):
        raise NotFound("no such page", record="/knowledge")
    return _knowledge_page(page, session)


@router.post("/knowledge/aliases", response_class=HTMLResponse)
def new_alias(page: PageDep, session: SessionDep, user: CurrentUser, now: ClockDep,
              posted: CheckedForm) -> Response:
    try:
        add_alias(session, AliasCreate(node=NodeKey(kind=NodeKind(str(posted.get("kind"))),
                                                    code=str(posted.get("code", ""))),
                                       text=str(posted.get("text", ""))),
                  actor=user.actor, now=now)
    except (InvalidInput, Conflict, NotFound, ValueError) as error:
        return _knowledge_page(page, session, status_code=422, problem=str(error))
    return RedirectResponse("/knowledge?done=alias", status_code=303)


@router.post("/knowledge/links", response_class=HTMLResponse)
def new_link(page: PageDep, session: SessionDep, user: CurrentUser, now: ClockDep,
             posted: CheckedForm) -> Response:
    codes = {name: (str(posted.get(name, "")).strip() or None) for name in (
        "technique_code", "property_code", "material_code", "standard_code", "industry_code",
        "class_code")}
    try:
        add_link(session, LinkCreate(kind=LinkKind(str(posted.get("kind"))),
                                     weight=float(str(posted.get("weight") or "1")),
                                     note=str(posted.get("note", "")), **codes),
                 actor=user.actor, now=now)
    except (InvalidInput, Conflict, NotFound, ValueError) as error:
        return _knowledge_page(page, session, status_code=422, problem=str(error))
    return RedirectResponse("/knowledge?done=link", status_code=303)
