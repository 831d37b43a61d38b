"""A real chromium against the real app: a user books a free slot from an instrument's
calendar and orders a sample test; the operator accepts the order, moves it on and uploads the
report; the user downloads it. Screenshots land in test-output/ for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from scishare.accounts.models import Role
from scishare.catalog.service import sync_reference_data
from scishare.core.database import make_engine, session_scope
from scishare.core.migrations import upgrade
from tests.web.live_server import live_app
from tests.web.seed import PASSWORD, a_person, henan_catalog, open_round_the_clock
from tests.web.test_browser import browser, shot  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

USER_EMAIL = "user@hnas.example.cn"
OPERATOR_EMAIL = "operator@zzu.example.cn"
XRD = "ZZ-0000101"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           monkeypatch_module: pytest.MonkeyPatch) -> Iterator[str]:
    """The app under uvicorn over a fresh SQLite catalog whose XRD takes bookings round the
    clock (the test runs on the real clock), with a user and the XRD's operator."""
    folder = tmp_path_factory.mktemp("booking-browser")
    monkeypatch_module.setenv("SCISHARE_REPORTS_DIR", str(folder / "reports"))
    from scishare.core.settings import get_settings

    get_settings.cache_clear()
    url = f"sqlite:///{folder / 'scishare.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        sync_reference_data(session)
        catalog = henan_catalog(session)
        open_round_the_clock(session, catalog.xrd)
        a_person(session, catalog.institute, Role.DEMANDER, USER_EMAIL)
        a_person(session, catalog.university, Role.OPERATOR, OPERATOR_EMAIL)
    with live_app(engine) as base_url:
        yield base_url
    engine.dispose()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811  (the shared fixture)
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(message.text)
              if message.type == "error" else None)
    opened.on("response", lambda answer: problems.append(f"{answer.status} {answer.url}")
              if answer.status >= 500 else None)
    yield opened
    context.close()
    assert problems == []


def sign_in(page: Page, server: str, email: str, target: str) -> None:
    page.goto(f"{server}/signin?next={target}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form.stacked button[type=submit]").click()
    expect(page.locator(".who")).to_be_visible()


def test_user_books_a_free_slot_and_operator_runs_a_sample_order(
        server: str, page: Page, tmp_path: Path) -> None:
    sign_in(page, server, USER_EMAIL, f"/booking/instruments/{XRD}")
    expect(page.locator("h1")).to_have_text("X射线衍射仪")
    expect(page.locator(".cal-day")).to_have_count(7)
    shot(page, "b01-calendar-zh.png")

    # A free stretch fills in the form; the price is the non-profit list price (institute).
    page.locator("a.free-slot").first.click()
    expect(page.locator("#starts")).not_to_have_value("")
    expect(page.locator("#estimate")).to_contain_text("按非营利价")
    shot(page, "b02-form-filled-zh.png")
    page.locator("#reserve-form button[type=submit]").click()

    expect(page.locator(".notice")).to_contain_text("已提交")
    expect(page.locator("#my-reservations tbody tr")).to_have_count(1)
    expect(page.locator("#my-reservations")).to_contain_text("已确认")
    shot(page, "b03-my-reservation-zh.png")

    # The same slot is now booked: the calendar shows it, and asking again is refused.
    page.goto(f"{server}/booking/instruments/{XRD}")
    expect(page.locator(".cal-seg.state-booked")).to_have_count(1)

    page.fill("#sample_count", "3")
    page.fill("#sample_description", "磷酸铁锂正极粉末，每个约 2 g")
    page.fill("#requested_tests", "XRD 物相分析")
    page.locator("#order-form button[type=submit]").click()
    expect(page.locator(".notice")).to_contain_text("订单")
    expect(page.locator("#my-orders")).to_contain_text("已提交")
    order_code = page.locator("#my-orders tbody tr code").first.inner_text()

    page.locator("form[action='/signout'] button").click()
    sign_in(page, server, OPERATOR_EMAIL, "/booking/queue")
    row = page.locator(f"#queue-orders tr[data-code='{order_code}']")
    expect(row).to_contain_text("已提交")
    shot(page, "b04-queue-zh.png")
    for step, status in (("受理", "已受理"), ("已收样", "已收样"), ("开始检测", "检测中")):
        row.get_by_role("button", name=step).click()
        expect(row).to_contain_text(status)
    report = tmp_path / "检测报告.pdf"
    report.write_bytes(PDF)
    row.locator("input[type=file]").set_input_files(str(report))
    row.get_by_role("button", name="上传报告").click()
    expect(row).to_contain_text("已出报告")

    page.locator("a[lang=en]").click()
    expect(page.locator("h1")).to_have_text("Operator queue")
    expect(row).to_contain_text("Report issued")
    shot(page, "b05-queue-en.png")
    row.locator("a").first.click()
    expect(page.locator("#order-history tbody tr")).to_have_count(5)

    page.locator("form[action='/signout'] button").click()
    sign_in(page, server, USER_EMAIL, "/booking/mine?lang=zh")
    with page.expect_download() as download:
        page.get_by_role("link", name="检测报告.pdf").click()
    saved = tmp_path / "downloaded.pdf"
    download.value.save_as(str(saved))
    assert saved.read_bytes() == PDF
    shot(page, "b06-mine-with-report-zh.png")
