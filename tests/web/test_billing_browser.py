"""A real chromium against the real app: an enterprise user sees the price of a free slot with
its innovation voucher part, books it, and reads the voucher page; once the reservation is
used and settled, the voucher part quoted is the one the history shows.
Screenshots land in test-output/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from scishare.accounts.models import OrganisationType, Role
from scishare.accounts.service import SYSTEM, actor_for, get_account
from scishare.billing.models import SourceKind
from scishare.billing.settlement import settle
from scishare.billing.vouchers import apply_for_quota, approve_quota, define_programme
from scishare.booking.service import (
    check_in,
    finish_reservation,
    get_reservation,
)
from scishare.catalog.service import sync_reference_data
from scishare.core.clock import to_display, utcnow
from scishare.core.database import make_engine, session_scope
from scishare.core.migrations import upgrade
from tests.accounts.factories import an_organisation
from tests.web.live_server import live_app
from tests.web.seed import PASSWORD, a_person, henan_catalog, open_round_the_clock
from tests.web.test_browser import browser, shot  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

USER_EMAIL = "user@yuli.example.cn"
XRD = "ZZ-0000101"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    """The app over a fresh SQLite catalog (on the real clock) whose XRD takes bookings round
    the clock, an enterprise user, and Zhengzhou's programme paying half of each fee with a
    quota for this year and the next."""
    url = f"sqlite:///{tmp_path_factory.mktemp('billing-browser') / 'scishare.db'}"
    upgrade(url)
    engine = make_engine(url)
    now = utcnow()
    today = now.date()
    with session_scope(engine) as session:
        sync_reference_data(session)
        catalog = henan_catalog(session)
        open_round_the_clock(session, catalog.xrd)
        enterprise = an_organisation(session, code="YULI", name_zh="河南豫锂新能源科技有限公司",
                                     name_en="Henan Yuli New Energy",
                                     org_type=OrganisationType.ENTERPRISE)
        user = actor_for(get_account(session, a_person(
            session, enterprise, Role.DEMANDER, USER_EMAIL).id))
        programme = define_programme(
            session, code="ZZ-VOUCHER", region_code="410100", name_zh="郑州市科技创新券",
            name_en="Zhengzhou innovation vouchers", budget_fen=100_000_000,
            ratio_bps=5_000, per_order_cap_fen=100_000, per_enterprise_year_cap_fen=1_000_000,
            valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=400),
            actor=SYSTEM, now=now)
        for year in (today.year, today.year + 1):
            quota = apply_for_quota(session, programme=programme, year=year,
                                    requested_fen=500_000, is_sme=True, actor=user, now=now)
            approve_quota(session, quota, approved_fen=500_000, actor=SYSTEM, now=now)
    with live_app(engine) as base_url:
        yield base_url, engine
    engine.dispose()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811  (the shared fixture)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(message.text)
              if message.type == "error" else None)
    opened.on("response", lambda answer: problems.append(f"{answer.status} {answer.url}")
              if answer.status >= 500 else None)
    yield opened
    context.close()
    assert problems == []


def use_and_settle(engine: Engine, code: str) -> date:
    """The operator's side, through the services: the reservation is used and settled."""
    with session_scope(engine) as session:
        reservation = get_reservation(session, code)
        user = actor_for(get_account(session, reservation.requester_id))
        starts_at: datetime = reservation.starts_at
        ends_at: datetime = reservation.ends_at
        check_in(session, reservation, actor=user, now=starts_at)
        finish_reservation(session, reservation, actor=SYSTEM, now=ends_at)
        settle(session, kind=SourceKind.RESERVATION, source_id=reservation.id, actor=SYSTEM,
               now=ends_at)
    return to_display(ends_at).date()


def test_enterprise_sees_the_voucher_part_books_and_reads_its_vouchers(
        served: tuple[str, Engine], page: Page) -> None:
    server, engine = served
    page.goto(f"{server}/signin?next=/booking/instruments/{XRD}")
    page.fill("#email", USER_EMAIL)
    page.fill("#password", PASSWORD)
    page.locator("form.stacked button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("X射线衍射仪")

    # A free hour at the enterprise price of 600 yuan: the voucher pays half.
    page.locator("a.free-slot").first.click()
    box = page.locator("#price-quote")
    expect(box).to_contain_text("标准价（企业价）")
    expect(box.locator("dd.list-price")).to_have_text("¥600.00")
    expect(box).to_contain_text("创新券抵扣（郑州市科技创新券，50%）")
    expect(box.locator("dd.voucher")).to_have_text("−¥300.00")
    expect(box.locator("dd.yours")).to_have_text("¥300.00")
    shot(page, "v01-price-with-voucher-zh.png")
    page.locator("#reserve-form button[type=submit]").click()
    expect(page.locator(".notice")).to_contain_text("已提交")
    code = page.locator("#my-reservations tbody tr code").first.inner_text()

    page.get_by_role("link", name="我的创新券").click()
    expect(page.locator("h1")).to_have_text("科技创新券")
    expect(page.locator("#voucher-quotas tbody tr")).to_have_count(2)
    expect(page.locator("#voucher-redemptions")).to_have_count(0)

    settled_on = use_and_settle(engine, code)
    page.reload()
    row = page.locator(f"#voucher-redemptions tr[data-code='{code}']")
    expect(row).to_contain_text("¥300.00")
    expect(row).to_contain_text(settled_on.isoformat())
    shot(page, "v02-voucher-history-zh.png")

    page.locator("a[lang=en]").click()
    expect(page.locator("h1")).to_have_text("Innovation vouchers")
    expect(row).to_contain_text("Machine time")
    shot(page, "v03-voucher-history-en.png")
