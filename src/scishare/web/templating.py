"""Jinja environments, one per language, and the `Page` a route renders through.

Each language gets its own environment with its translations installed, so rendering never
switches a shared gettext between concurrent requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from scishare.accounts.models import Role
from scishare.accounts.permissions import Action
from scishare.core.clock import to_display
from scishare.core.money import Money
from scishare.web import csrf
from scishare.web.i18n import LANGUAGES
from scishare.web.labels import LABELS, SYSTEM_REASONS

if TYPE_CHECKING:
    from scishare.web.deps import SignedIn

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LANG_COOKIE = "lang"
ONE_YEAR_S = 365 * 24 * 3600


class Named(Protocol):
    name_zh: str
    name_en: str


def relative(url: Any) -> str:
    """Path and query of a Starlette URL, for links that stay on this site."""
    return f"{url.path}?{url.query}" if url.query else str(url.path)


def _environment(locale: str, translations: Translations) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(),
        undefined=StrictUndefined, extensions=["jinja2.ext.i18n"],
        trim_blocks=True, lstrip_blocks=True)
    # Same whitespace rule as extraction (i18n.OPTIONS_MAP), should {% trans %} blocks appear.
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    is_zh = locale.startswith("zh")

    def name(record: Named | None) -> str:
        """A catalog record's name in the reader's language; English falls back to Chinese."""
        if record is None:
            return ""
        return record.name_zh if is_zh else (record.name_en or record.name_zh)

    def pick(zh: str, en: str) -> str:
        return zh if is_zh else (en or zh)

    def label(value: str | None) -> str:
        if value is None:
            return ""
        return translations.gettext(LABELS.get(str(value), str(value)))

    def reason(text: str) -> str:
        return translations.gettext(SYSTEM_REASONS[text]) if text in SYSTEM_REASONS else text

    def yuan(fen: int | None) -> str:
        if fen is None:
            return "—"
        return "¥" + format_decimal(Money(fen).yuan, format="#,##0.00", locale=locale)

    def number(value: int | Decimal) -> str:
        return str(format_decimal(value, locale=locale))

    def when(moment: datetime | None) -> str:
        return to_display(moment).strftime("%Y-%m-%d %H:%M") if moment else ""

    environment.filters.update(name=name, label=label, reason=reason, yuan=yuan,
                               number=number, when=when)
    environment.globals.update(
        pick=pick, Action=Action, Role=Role, locale=locale, html_lang="zh-Hans" if is_zh else "en",
        lang=next(code for code, known in LANGUAGES.items() if known == locale))
    return environment


class Templates:
    """Every template, ready in each language that has a catalog."""

    def __init__(self, translations: Mapping[str, Translations]) -> None:
        self.translations = dict(translations)
        self._environments = {locale: _environment(locale, catalog)
                              for locale, catalog in translations.items()}

    def environment(self, locale: str) -> Environment:
        return self._environments[locale]


@dataclass(frozen=True)
class Page:
    """One HTML response in the making: who asks, in which language."""

    request: Request
    templates: Templates
    locale: str
    user: SignedIn | None

    def gettext(self, message: str, **params: object) -> str:
        text = self.templates.translations[self.locale].gettext(message)
        return text % params if params else text

    def with_query(self, **params: str | int | None) -> str:
        """This page's URL with some query parameters replaced (None drops one)."""
        url = self.request.url
        for key, value in params.items():
            url = (url.remove_query_params(key) if value is None
                   else url.include_query_params(**{key: value}))
        return relative(url)

    def render(self, template: str, *, status_code: int = 200, here: str | None = None,
               **context: Any) -> HTMLResponse:
        """Render `template`; `here` is the GET address of what is shown, after a post."""
        token, new_token = csrf.token_for(self.request)
        if here is None:
            here = (relative(self.request.url) if self.request.method == "GET"
                    else self.request.url.path)
        page_url = self.request.url.replace(path=here.partition("?")[0],
                                            query=here.partition("?")[2])
        language_links = {code: relative(page_url.include_query_params(lang=code))
                          for code in LANGUAGES}
        html = self.templates.environment(self.locale).get_template(template).render(
            request=self.request, user=self.user, csrf_token=token,
            language_links=language_links, with_query=self.with_query, here=here, **context)
        response = HTMLResponse(html, status_code=status_code)
        if new_token:
            csrf.remember(response, token)
        chosen = self.request.query_params.get("lang")
        if chosen in LANGUAGES:
            response.set_cookie(LANG_COOKIE, chosen, max_age=ONE_YEAR_S, samesite="lax")
        return response
