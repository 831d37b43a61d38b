"""The FastAPI application: pages, the JSON API under /api, and the one error-to-HTTP table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from scishare import __version__
from scishare.core.database import session_factory
from scishare.core.errors import SciShareError
from scishare.web.api import auth as auth_api
from scishare.web.api import billing as billing_api
from scishare.web.api import booking as booking_api
from scishare.web.api import catalog as catalog_api
from scishare.web.api import matching as matching_api
from scishare.web.api import organisations as organisations_api
from scishare.web.api import reference as reference_api
from scishare.web.deps import FormRejected, negotiate_locale, templates
from scishare.web.i18n import load_all
from scishare.web.pages import auth as auth_pages
from scishare.web.pages import billing as billing_pages
from scishare.web.pages import booking as booking_pages
from scishare.web.pages import catalog as catalog_pages
from scishare.web.pages import matching as matching_pages
from scishare.web.pages import organisations as organisation_pages
from scishare.web.pages import provider as provider_pages
from scishare.web.templating import Page, Templates

STATIC_DIR = Path(__file__).resolve().parent / "static"

# The one table from error category to HTTP status; domains never name status codes.
STATUS_BY_CATEGORY: dict[str, int] = {
    "not_found": 404,
    "conflict": 409,
    "invalid_input": 422,
    "forbidden": 403,
    "unauthenticated": 401,
}
CATEGORY_BY_STATUS = {status: category for category, status in STATUS_BY_CATEGORY.items()}

# Where a request validation error was found, named as the `record` of the error body.
VALIDATION_RECORDS = {"body": "request body", "query": "query", "path": "path",
                      "header": "header", "cookie": "cookie"}

OPENAPI_TAGS = [
    {"name": "instruments", "description": "Browse, register and edit shared instruments."},
    {"name": "organisations", "description": "Units that own or use instruments."},
    {"name": "reference", "description": "Regions, the national classification and "
                                         "the technique vocabulary."},
    {"name": "catalog", "description": "Figures of the whole catalog and bulk import."},
    {"name": "auth", "description": "Sign-in sessions and API tokens."},
]


def create_app(engine: Engine | None = None) -> FastAPI:
    """The app over `engine` (by default the one configured by SCISHARE_DATABASE_URL)."""
    # The API docs page with Swagger UI served from the package (fastapi-offline), not a CDN:
    # platforms run on networks without one.
    app = FastAPIOffline(
        static_url="/api/docs-static",
        title="SciShare API",
        summary="Open platform for sharing large research instruments (大型科学仪器共享平台).",
        description="Money is in integer fen (1/100 CNY). Errors have the shape "
                    '`{"error", "record", "field", "reason"}`. Authenticate with the '
                    "`scishare_session` cookie from `POST /api/auth/signin` or with "
                    "`Authorization: Bearer <token>` from `POST /api/auth/tokens`.",
        version=__version__, openapi_tags=OPENAPI_TAGS, docs_url="/api/docs", redoc_url=None)
    app.state.sessions = session_factory(engine)
    app.state.templates = Templates(load_all())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (catalog_api, organisations_api, reference_api, auth_api, matching_api):
        app.include_router(module.router, prefix="/api")
    for module in (catalog_pages, organisation_pages, auth_pages, provider_pages,
                   matching_pages):
        app.include_router(module.router, include_in_schema=False)
    app.include_router(booking_api.router, prefix="/api")
    app.include_router(billing_api.router, prefix="/api")
    app.include_router(booking_pages.router, include_in_schema=False)
    app.include_router(billing_pages.router, include_in_schema=False)
    app.add_exception_handler(FormRejected, _form_rejected)  # type: ignore[arg-type]
    app.add_exception_handler(SciShareError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def _respond(request: Request, status: int, body: dict[str, Any]) -> Response:
    """The error as JSON for the API, as a page in the reader's language otherwise."""
    if _is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(body, status_code=status, headers=headers)
    if status == 401 and request.method == "GET":
        # A page that needs a sign-in sends the reader to the form and back afterwards.
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query
                                           else ""), safe="")
        return RedirectResponse(f"/signin?next={target}", status_code=303)
    page = Page(request=request, templates=templates(request),
                locale=negotiate_locale(request), user=None)
    return page.render("error.html", status_code=status, problem=body,
                       here="/" if request.method != "GET" else None)


def _form_rejected(_request: Request, rejected: FormRejected) -> Response:
    return rejected.response


def _domain_error(request: Request, error: SciShareError) -> Response:
    body: dict[str, Any] = dict(error.as_dict())
    problems = getattr(error, "problems", None)
    if problems:
        body["problems"] = [str(problem) for problem in problems]
    return _respond(request, STATUS_BY_CATEGORY.get(error.category, 400), body)


def _finding(detail: Mapping[str, Any]) -> tuple[str, str | None, str]:
    """(record, field, reason) of one pydantic finding: where it was, which field, why."""
    loc = tuple(detail["loc"])
    record = VALIDATION_RECORDS.get(str(loc[0]), str(loc[0])) if loc else "request"
    return record, ".".join(str(part) for part in loc[1:]) or None, str(detail["msg"])


def _validation_error(request: Request, error: RequestValidationError) -> Response:
    """Pydantic's findings in the shape of a domain error; every finding under `problems`."""
    findings = [_finding(detail) for detail in error.errors()]
    record, field, reason = findings[0] if findings else ("request", None, "invalid request")
    body: dict[str, Any] = {
        "error": "invalid_input", "record": record, "field": field, "reason": reason,
        "problems": [f"{f}: {r}" if f else r for _, f, r in findings]}
    return _respond(request, 422, body)


def _http_error(request: Request, error: HTTPException) -> Response:
    body = {"error": CATEGORY_BY_STATUS.get(error.status_code, "error"),
            "record": request.url.path, "field": None, "reason": str(error.detail)}
    return _respond(request, error.status_code, body)
