"""Provider pages: add and edit instruments, move them through their lifecycle, import files.

Each page checks up front that the signed-in person may act for the organisation, so that a
demander is refused before seeing a form; the services check again when the form is sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from scishare.accounts.models import Organisation
from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import authorize, get_organisation, list_organisations
from scishare.catalog.errors import CatalogImportRejected
from scishare.catalog.importing import COLUMNS, import_catalog
from scishare.catalog.models import LifecycleState, ServiceUnit
from scishare.catalog.schemas import InstrumentCreate, InstrumentRead, InstrumentUpdate
from scishare.catalog.service import (
    change_lifecycle,
    get_instrument,
    read_instrument,
    register_instrument,
    update_instrument,
)
from scishare.core.errors import Conflict, Forbidden, InvalidInput
from scishare.web.deps import (
    CheckedForm,
    ClockDep,
    CurrentUser,
    FormRejected,
    PageDep,
    SessionDep,
    SignedIn,
)
from scishare.web.forms import InstrumentForm
from scishare.web.labels import N_
from scishare.web.pages.common import Names
from scishare.web.templating import Page

router = APIRouter(prefix="/provider")

NOT_A_CHOICE = N_("Not one of the choices.")
CHOOSE_A_FILE = N_("Choose a .csv or .xlsx file.")


def _organisations_for(session: Session, user: SignedIn, action: Action) -> list[Organisation]:
    """The organisations the person may do `action` for, their own first; refuses if none."""
    found = sorted((organisation for organisation in list_organisations(session)
                    if user.may(action, organisation)),
                   key=lambda organisation: organisation.id != user.account.organisation_id)
    if not found:
        raise Forbidden(f"not allowed to {action.value}", record=f"account {user.account.email}")
    return found


def _authorize_for(user: SignedIn, action: Action, organisation: Organisation, *,
                   record: str) -> None:
    authorize(user.actor, action, Target(organisation_id=organisation.id,
                                         region_code=organisation.region_code), record=record)


def _edit_path(exchange_id: str) -> str:
    return f"/provider/instruments/{exchange_id}/edit"


def _form_page(page: Page, session: Session, form: InstrumentForm, *,
               organisations: list[Organisation], instrument: InstrumentRead | None = None,
               status_code: int = 200, **lifecycle: Any) -> HTMLResponse:
    lifecycle = {"move_errors": {}, "to_state": "", "reason": ""} | lifecycle
    return page.render(
        "provider/instrument_form.html", status_code=status_code, form=form,
        instrument=instrument, organisations=organisations, names=Names.load(session),
        units=list(ServiceUnit), states=list(LifecycleState),
        here=_edit_path(instrument.exchange_id) if instrument else None, **lifecycle)


def _rejected_status(error: InvalidInput | Conflict) -> int:
    return 409 if isinstance(error, Conflict) else 422


# Adding ------------------------------------------------------------------------------------

@router.get("/instruments/new", response_class=HTMLResponse)
def new_instrument(page: PageDep, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    organisations = _organisations_for(session, user, Action.REGISTER_INSTRUMENT)
    form = InstrumentForm.blank(organisation_id=organisations[0].id,
                                region_code=organisations[0].region_code)
    return _form_page(page, session, form, organisations=organisations)


@router.post("/instruments/new")
def register(page: PageDep, session: SessionDep, user: CurrentUser, now: ClockDep,
             posted: CheckedForm) -> RedirectResponse:
    organisations = _organisations_for(session, user, Action.REGISTER_INSTRUMENT)
    form = InstrumentForm.posted(posted)
    status_code = 422
    command = form.command(InstrumentCreate, page.gettext)
    if command is not None:
        try:
            instrument = register_instrument(session, command, actor=user.actor, now=now)
        except (InvalidInput, Conflict) as error:
            form.reject(error)
            status_code = _rejected_status(error)
        else:
            return RedirectResponse(f"/instruments/{instrument.exchange_id}?saved=1",
                                    status_code=303)
    raise FormRejected(_form_page(page, session, form, organisations=organisations,
                                  status_code=status_code))


# Editing -----------------------------------------------------------------------------------

@router.get("/instruments/{exchange_id}/edit", response_class=HTMLResponse)
def edit_instrument(page: PageDep, session: SessionDep, user: CurrentUser,
                    exchange_id: str) -> HTMLResponse:
    instrument = get_instrument(session, exchange_id)
    owner = get_organisation(session, instrument.organisation_id)
    _authorize_for(user, Action.EDIT_INSTRUMENT, owner, record=f"instrument {exchange_id}")
    stored = read_instrument(instrument)
    return _form_page(page, session, InstrumentForm.of(stored), organisations=[owner],
                      instrument=stored)


@router.post("/instruments/{exchange_id}/edit")
def update(page: PageDep, session: SessionDep, user: CurrentUser, now: ClockDep,
           exchange_id: str, posted: CheckedForm) -> RedirectResponse:
    instrument = get_instrument(session, exchange_id)
    owner = get_organisation(session, instrument.organisation_id)
    stored = read_instrument(instrument)
    form = InstrumentForm.posted(posted)
    status_code = 422
    command = form.command(InstrumentUpdate, page.gettext)
    if command is not None:
        try:
            update_instrument(session, instrument, command, actor=user.actor, now=now)
        except (InvalidInput, Conflict) as error:
            form.reject(error)
            status_code = _rejected_status(error)
        else:
            return RedirectResponse(f"/instruments/{exchange_id}?saved=1", status_code=303)
    raise FormRejected(_form_page(page, session, form, organisations=[owner],
                                  instrument=stored, status_code=status_code))


@router.post("/instruments/{exchange_id}/lifecycle")
def move(page: PageDep, session: SessionDep, user: CurrentUser, now: ClockDep,
         exchange_id: str, posted: CheckedForm) -> RedirectResponse:
    instrument = get_instrument(session, exchange_id)
    owner = get_organisation(session, instrument.organisation_id)
    stored = read_instrument(instrument)
    to_state, reason = str(posted.get("to_state", "")), str(posted.get("reason", ""))
    errors: dict[str, str] = {}
    if to_state not in set(LifecycleState):
        errors["to_state"] = page.gettext(NOT_A_CHOICE)
    else:
        try:
            change_lifecycle(session, instrument, to_state=LifecycleState(to_state),
                             reason=reason, actor=user.actor, now=now)
        except InvalidInput as error:
            errors["reason" if error.field == "reason" else "to_state"] = error.reason
        else:
            return RedirectResponse(f"/instruments/{exchange_id}?saved=1", status_code=303)
    raise FormRejected(_form_page(
        page, session, InstrumentForm.of(stored), organisations=[owner], instrument=stored,
        status_code=422, move_errors=errors, to_state=to_state, reason=reason))


# Importing ---------------------------------------------------------------------------------

@router.get("/import", response_class=HTMLResponse)
def import_form(page: PageDep, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    _organisations_for(session, user, Action.IMPORT_CATALOG)
    return page.render("provider/import.html", columns=COLUMNS, problems=[], report=None,
                       error="")


@router.post("/import", response_class=HTMLResponse)
def import_file(page: PageDep, session: SessionDep, user: CurrentUser, now: ClockDep,
                posted: CheckedForm) -> HTMLResponse:
    """All or nothing: the page lists every problem of a rejected file, one per line."""
    _organisations_for(session, user, Action.IMPORT_CATALOG)
    upload = posted.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise FormRejected(page.render("provider/import.html", status_code=422,
                                       columns=COLUMNS, problems=[], report=None,
                                       error=page.gettext(CHOOSE_A_FILE)))
    try:
        report = import_catalog(session, upload.file, filename=upload.filename,
                                actor=user.actor, now=now)
    except CatalogImportRejected as rejected:
        raise FormRejected(page.render(
            "provider/import.html", status_code=422, columns=COLUMNS, report=None, error="",
            problems=[str(problem) for problem in rejected.problems])) from None
    return page.render("provider/import.html", columns=COLUMNS, problems=[], report=report,
                       error="")
