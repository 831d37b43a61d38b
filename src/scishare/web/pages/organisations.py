"""Organisation pages: the list, and one organisation's profile with its instruments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from scishare.accounts.service import get_organisation_by_code, list_organisations
from scishare.catalog.schemas import InstrumentFilter
from scishare.catalog.service import search_instruments
from scishare.regions.service import list_regions
from scishare.web.deps import PageDep, SessionDep
from scishare.web.pages.common import Names

router = APIRouter()

PAGE_SIZE = 20


@router.get("/organisations", response_class=HTMLResponse)
def organisations(page: PageDep, session: SessionDep) -> HTMLResponse:
    return page.render("organisations/list.html", organisations=list_organisations(session),
                       regions={region.code: region for region in list_regions(session)})


@router.get("/organisations/{code}", response_class=HTMLResponse)
def organisation(page: PageDep, session: SessionDep, code: str,
                 page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1
                 ) -> HTMLResponse:
    found = get_organisation_by_code(session, code)
    instruments = search_instruments(session, InstrumentFilter(
        organisation_code=found.code, page=page_number, page_size=PAGE_SIZE))
    return page.render("organisations/organisation.html", organisation=found,
                       names=Names.load(session), results=instruments,
                       pages=-(-instruments.total // PAGE_SIZE))
