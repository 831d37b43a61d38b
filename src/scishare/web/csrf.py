"""A double-submit token for HTML forms that post with the sign-in cookie.

Every rendered page carries the token of the browser's `scishare_csrf` cookie (set on first
sight) in its forms; a post is accepted only when the form field and the cookie agree. Another
site can make a browser send the cookie but can neither read it nor set it, so it cannot fill
in the field. The JSON API relies on SameSite=Lax cookies and bearer tokens instead.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from scishare.core.errors import Forbidden
from scishare.core.settings import get_settings

CSRF_COOKIE = "scishare_csrf"
CSRF_FIELD = "csrf_token"


def token_for(request: Request) -> tuple[str, bool]:
    """The browser's token and whether it is new (and so must be set as a cookie)."""
    known = request.cookies.get(CSRF_COOKIE)
    if known:
        return known, False
    return secrets.token_urlsafe(24), True


def remember(response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax",
                        secure=get_settings().cookie_secure)


def verify(request: Request, submitted: str) -> None:
    """Refuse a form whose token does not match the browser's cookie."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, submitted):
        raise Forbidden("the form has expired; reload the page and send it again",
                        record="form", field=CSRF_FIELD)
