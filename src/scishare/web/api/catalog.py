"""Instruments, catalog figures and bulk import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, UploadFile, status
from pydantic import BaseModel

from scishare.catalog.importing import import_catalog
from scishare.catalog.schemas import (
    CatalogStats,
    InstrumentCreate,
    InstrumentFilter,
    InstrumentPage,
    InstrumentRead,
    InstrumentUpdate,
    LifecycleChangeRead,
    LifecycleMove,
)
from scishare.catalog.service import (
    catalog_stats,
    change_lifecycle,
    get_instrument,
    lifecycle_history,
    read_instrument,
    register_instrument,
    search_instruments,
    update_instrument,
)
from scishare.web.api.common import errors
from scishare.web.deps import ClockDep, CurrentUser, SessionDep

router = APIRouter()

ExchangeId = Annotated[str, Path(description="The instrument's stable exchange id.",
                                  examples=["ZZ-0001234"])]


@router.get("/instruments", tags=["instruments"], summary="Search the catalog",
            responses=errors(422))
def search(session: SessionDep, wanted: Annotated[InstrumentFilter, Query()]
           ) -> InstrumentPage:
    """One page of instruments matching every filter given, ordered by exchange id.

    `q` matches the name (Chinese or English), model or manufacturer; `class_code` takes a
    major (2-digit) or medium (4-digit) class; `region_code` includes the regions below it;
    prices are the enterprise price of any active service item, in fen.
    """
    return search_instruments(session, wanted)


@router.get("/instruments/{exchange_id}", tags=["instruments"], summary="Read an instrument",
            responses=errors(404))
def read(session: SessionDep, exchange_id: ExchangeId) -> InstrumentRead:
    return read_instrument(get_instrument(session, exchange_id))


@router.post("/instruments", tags=["instruments"], summary="Register an instrument",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 409, 422))
def register(session: SessionDep, user: CurrentUser, now: ClockDep,
             data: InstrumentCreate) -> InstrumentRead:
    """List a new instrument for an organisation the caller may register instruments for."""
    instrument = register_instrument(session, data, actor=user.actor, now=now)
    return read_instrument(instrument)


@router.patch("/instruments/{exchange_id}", tags=["instruments"], summary="Edit an instrument",
              responses=errors(401, 403, 404, 422))
def edit(session: SessionDep, user: CurrentUser, now: ClockDep, exchange_id: ExchangeId,
         data: InstrumentUpdate) -> InstrumentRead:
    """Change the fields given; lists given (techniques, service items) replace the old ones."""
    instrument = update_instrument(session, get_instrument(session, exchange_id), data,
                                   actor=user.actor, now=now)
    return read_instrument(instrument)


@router.post("/instruments/{exchange_id}/lifecycle", tags=["instruments"],
             summary="Move an instrument to another lifecycle state",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 404, 422))
def move(session: SessionDep, user: CurrentUser, now: ClockDep, exchange_id: ExchangeId,
         data: LifecycleMove) -> LifecycleChangeRead:
    change = change_lifecycle(session, get_instrument(session, exchange_id),
                              to_state=data.to_state, reason=data.reason, actor=user.actor,
                              now=now)
    return LifecycleChangeRead.model_validate(change)


@router.get("/instruments/{exchange_id}/lifecycle", tags=["instruments"],
            summary="An instrument's lifecycle history", responses=errors(404))
def history(session: SessionDep, exchange_id: ExchangeId) -> list[LifecycleChangeRead]:
    changes = lifecycle_history(session, get_instrument(session, exchange_id))
    return [LifecycleChangeRead.model_validate(change) for change in changes]


@router.get("/catalog/stats", tags=["catalog"], summary="Counts of the catalog",
            responses=errors(404, 422))
def stats(session: SessionDep,
          region_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None
          ) -> CatalogStats:
    """The figures of `scishare catalog stats --json`, optionally for one region and below."""
    return catalog_stats(session, region_code=region_code)


class ImportResult(BaseModel):
    """What an accepted catalog file stored."""

    instruments: int
    service_items: int
    organisation_codes: list[str]


@router.post("/catalog/import", tags=["catalog"], summary="Import a CSV/XLSX catalog file",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 422))
def import_file(session: SessionDep, user: CurrentUser, now: ClockDep,
                file: Annotated[UploadFile, File(description="A .csv (UTF-8) or .xlsx file "
                                                             "in the catalog template")]
                ) -> ImportResult:
    """All or nothing: on any bad row nothing is stored and the answer is 422 with one line
    per problem under `problems` (`row <n>: <field>: <reason>`)."""
    report = import_catalog(session, file.file, filename=file.filename or "",
                            actor=user.actor, now=now)
    return ImportResult(instruments=report.instruments, service_items=report.service_items,
                        organisation_codes=list(report.organisation_codes))
