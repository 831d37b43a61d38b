"""A real chromium types a Chinese need on the search page and reads explained offers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from scishare.accounts.service import SYSTEM
from scishare.catalog.service import sync_reference_data
from scishare.core.clock import utcnow
from scishare.core.database import make_engine, session_scope
from scishare.core.migrations import upgrade
from scishare.knowledge.service import import_seed
from scishare.matching.service import current_engine, forget_engine
from tests.matching.factories import a_catalog
from tests.web.live_server import live_app
from tests.web.test_browser import browser, page, shot

pytestmark = pytest.mark.browser
__all__ = ["browser", "page"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a fresh SQLite database with the knowledge seed and a small catalog."""
    url = f"sqlite:///{tmp_path_factory.mktemp('matching-browser') / 'scishare.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        sync_reference_data(session)
        import_seed(session, actor=SYSTEM, now=utcnow())
        a_catalog(session)
    forget_engine()
    with session_scope(engine) as session:
        # Index (and embed) before the first page, as a running server would have done.
        current_engine(session)
    with live_app(engine) as base_url:
        yield base_url
    engine.dispose()
    forget_engine()


def test_chinese_need_shows_offers_with_explanations(server: str, page: Page) -> None:
    page.goto(server + "/match?lang=zh")
    expect(page.locator("h1")).to_have_text("找服务")

    page.fill("#q", "想测一下我们锂电池正极粉的晶体结构和物相")
    page.locator("form.match-form button[type=submit]").click()

    first = page.locator("li.offer").first
    expect(first).to_be_visible(timeout=30_000)
    expect(first.locator(".badge")).to_contain_text("XRD")
    expect(first.locator(".explanation")).to_contain_text("晶体结构/物相组成 -> XRD")
    expect(first).to_contain_text("¥")
    expect(first.get_by_role("link", name="预约")).to_have_attribute(
        "href", re.compile(r"^/booking/instruments/[A-Z]{2}-\d+$"))
    shot(page, "matching-01-offers-zh.png")


def test_english_page_and_a_bad_budget(server: str, page: Page) -> None:
    page.goto(server + "/match?lang=en&q=crystal+structure+of+cathode+powder&budget=-5")

    expect(page.locator("h1")).to_have_text("Find a service")
    expect(page.locator(".field-error")).to_contain_text("negative")
    expect(page.locator("li.offer")).to_have_count(0)
    shot(page, "matching-02-bad-budget-en.png")
