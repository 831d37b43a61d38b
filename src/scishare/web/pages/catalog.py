"""The home page, the catalog browser and the instrument page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from scishare.accounts.permissions import Action
from scishare.accounts.service import get_organisation, list_organisations
from scishare.catalog.schemas import InstrumentFilter, InstrumentPage
from scishare.catalog.service import (
    catalog_stats,
    get_instrument,
    lifecycle_history,
    read_instrument,
    search_instruments,
)
from scishare.core.errors import InvalidInput
from scishare.core.money import Money
from scishare.web.deps import PageDep, SessionDep
from scishare.web.labels import N_
from scishare.web.pages.common import Names

router = APIRouter()

PAGE_SIZE = 20
BAD_FILTER = N_("This filter is not valid.")
NOT_AN_AMOUNT = N_("Not an amount in yuan.")


@router.get("/", response_class=HTMLResponse)
def home(page: PageDep, session: SessionDep) -> HTMLResponse:
    stats = catalog_stats(session)
    names = Names.load(session)
    majors = [(names.classes[code], count)
              for code, count in stats.instruments_by_major_class.items()
              if code in names.classes]
    return page.render("home.html", stats=stats, majors=majors)


@router.get("/instruments", response_class=HTMLResponse)
def browse(page: PageDep, session: SessionDep, q: str = "", class_code: str = "",
           region_code: str = "", organisation_code: str = "", technique_code: str = "",
           open_external: str = "", price_min: str = "", price_max: str = "",
           page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1
           ) -> HTMLResponse:
    """Filters come as typed (prices in yuan); a bad one is shown by the filter form."""
    problems: dict[str, str] = {}
    prices: dict[str, int | None] = {}
    for name, text in (("price_min", price_min), ("price_max", price_max)):
        try:
            prices[name] = Money.parse(text).fen if text.strip() else None
        except InvalidInput:
            problems[name] = page.gettext(NOT_AN_AMOUNT)
    results = InstrumentPage(items=[], total=0, page=page_number, page_size=PAGE_SIZE)
    if not problems:
        try:
            results = search_instruments(session, InstrumentFilter(
                q=q.strip() or None, class_code=class_code or None,
                region_code=region_code or None, organisation_code=organisation_code or None,
                technique_code=technique_code or None,
                is_open_external=True if open_external else None,
                price_min_fen=prices["price_min"], price_max_fen=prices["price_max"],
                page=page_number, page_size=PAGE_SIZE))
        except ValidationError as error:
            for detail in error.errors():
                problems[str(detail["loc"][0]).removesuffix("_fen")] = page.gettext(BAD_FILTER)
        except InvalidInput as error:
            problems[(error.field or "q").removesuffix("_fen")] = page.gettext(BAD_FILTER)
    names = Names.load(session)
    return page.render(
        "catalog/browse.html", results=results, names=names, problems=problems,
        organisations=list_organisations(session),
        pages=-(-results.total // PAGE_SIZE),
        wanted={"q": q, "class_code": class_code, "region_code": region_code,
                "organisation_code": organisation_code, "technique_code": technique_code,
                "open_external": open_external, "price_min": price_min,
                "price_max": price_max})


@router.get("/instruments/{exchange_id}", response_class=HTMLResponse)
def instrument(page: PageDep, session: SessionDep, exchange_id: str,
               saved: bool = False) -> HTMLResponse:
    found = get_instrument(session, exchange_id)
    organisation = get_organisation(session, found.organisation_id)
    return page.render(
        "catalog/instrument.html", instrument=read_instrument(found), organisation=organisation,
        names=Names.load(session), history=lifecycle_history(session, found), saved=saved,
        may_edit=page.user is not None and page.user.may(Action.EDIT_INSTRUMENT, organisation))
