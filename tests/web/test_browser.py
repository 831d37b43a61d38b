"""A real chromium against the real app: sign in, filter the catalog, read an instrument in
Chinese and in English, and edit it. Screenshots land in test-output/ for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    expect,
    sync_playwright,
)

from scishare.accounts.models import Role
from scishare.catalog.service import sync_reference_data
from scishare.core.database import make_engine, session_scope
from scishare.core.migrations import upgrade
from tests.conftest import IN_CI
from tests.web.live_server import live_app
from tests.web.seed import PASSWORD, a_person, henan_catalog

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
PROVIDER_EMAIL = "admin@zzu.example.cn"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app under uvicorn on a free port, over a fresh SQLite catalog."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'scishare.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        sync_reference_data(session)
        catalog = henan_catalog(session)
        a_person(session, catalog.university, Role.PROVIDER_ADMIN, PROVIDER_EMAIL)
    with live_app(engine) as base_url:
        yield base_url
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"chromium not found at {CHROMIUM}; `make browser-deps` installs it"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # Failed loads are judged by `response` below: a 422 page for a bad form is correct.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"{message.text} ({message.location.get('url')})")

    def response(answer: Response) -> None:
        # A missing asset or a server error would leave a page that only looks fine.
        if answer.status >= 500 or ("/static/" in answer.url and answer.status >= 400):
            problems.append(f"{answer.status} {answer.url}")

    opened.on("console", console)
    opened.on("response", response)
    yield opened
    context.close()
    assert problems == []


def shot(page: Page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / name), full_page=True)


def test_provider_finds_reads_and_edits_an_instrument(server: str, page: Page) -> None:
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(".figure strong").first).to_have_text("3")
    shot(page, "01-home-zh.png")

    page.get_by_role("link", name="登录").click()
    page.fill("#email", PROVIDER_EMAIL)
    page.fill("#password", PASSWORD)
    shot(page, "02-signin-zh.png")
    page.locator("form.stacked button[type=submit]").click()
    expect(page.locator(".who")).to_be_visible()
    expect(page.get_by_role("link", name="新增仪器")).to_be_visible()

    page.get_by_role("link", name="仪器设备").click()
    expect(page.locator("#result-count")).to_have_text("共找到 3 台仪器")
    page.select_option("#class_code", "0103")
    page.select_option("#technique_code", "XRD")
    page.fill("#q", "衍射")
    page.locator("form.filters button[type=submit]").click()
    expect(page.locator("#result-count")).to_have_text("共找到 1 台仪器")
    expect(page.locator("table.list")).not_to_contain_text("场发射扫描电子显微镜")
    shot(page, "03-catalog-filtered-zh.png")

    page.get_by_role("link", name="X射线衍射仪").click()
    expect(page.locator("h1")).to_have_text("X射线衍射仪")
    for text in ("X射线仪器", "粉末X射线衍射", "物相分析", "按样品", "企业价", "¥300.00",
                 "郑州大学", "纬度 34.81650，经度 113.53550", "登记入库"):
        expect(page.locator("main")).to_contain_text(text)
    shot(page, "04-instrument-zh.png")

    page.locator("a[lang=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("X-ray diffractometer")
    for text in ("X-ray instruments", "X-ray powder diffraction", "Phase analysis",
                 "per sample", "Enterprise price", "Zhengzhou University", "Registered"):
        expect(page.locator("main")).to_contain_text(text)
    shot(page, "05-instrument-en.png")

    page.get_by_role("link", name="Edit").click()
    page.fill("#model", "D8 DISCOVER")
    page.fill("input[name=items-0-price_enterprise]", "320")
    shot(page, "06-edit-en.png")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".notice")).to_have_text("Saved.")
    expect(page.locator("main")).to_contain_text("D8 DISCOVER")
    expect(page.locator("main")).to_contain_text("¥320.00")

    page.locator("a[lang=zh-Hans]").click()
    expect(page.locator("h1")).to_have_text("X射线衍射仪")
    expect(page.locator("main")).to_contain_text("D8 DISCOVER")


def test_import_lists_the_problems_of_a_rejected_file(server: str, page: Page,
                                                      tmp_path: Path) -> None:
    bad = tmp_path / "仪器目录.csv"
    bad.write_text("仪器编号,仪器名称,分类代码,原值(元),所属单位\n"
                   "ZZ-0000901,热重分析仪,9999,abc,ZZU\n", encoding="utf-8")
    page.goto(server + "/signin?next=/provider/import")
    page.fill("#email", PROVIDER_EMAIL)
    page.fill("#password", PASSWORD)
    page.locator("form.stacked button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("导入仪器目录文件")

    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="批量导入").click()

    expect(page.locator(".form-error")).to_contain_text("文件未导入：发现 2 处问题。")
    problems = page.locator("#import-problems li")
    expect(problems).to_have_count(2)
    # The order of problems within a row is the importer's business.
    assert sorted(problems.all_text_contents()) == [
        "row 2: 分类代码: unknown national class code 9999",
        "row 2: 原值(元): not an amount: 'abc'"]
    shot(page, "07-import-problems-zh.png")
