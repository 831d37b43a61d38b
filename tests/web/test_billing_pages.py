"""The billing pages: the price box of the booking forms, an enterprise's vouchers, the
bureau's programmes, a provider's statements, and who sees them in the navigation."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from scishare.accounts.models import Account, Organisation, OrganisationType, Role
from scishare.accounts.service import SYSTEM, Actor, actor_for, get_account
from scishare.billing.models import SourceKind, VoucherProgramme
from scishare.billing.settlement import settle
from scishare.billing.vouchers import apply_for_quota, approve_quota, define_programme
from scishare.booking.models import OperationMode, Reservation
from scishare.booking.periods import TimeRange
from scishare.booking.service import check_in, finish_reservation, reserve
from scishare.catalog.models import Instrument, ServiceUnit
from scishare.core.clock import DISPLAY_TZ
from tests.accounts.factories import an_account, an_organisation
from tests.web.conftest import sign_in
from tests.web.seed import PASSWORD, Catalog, a_person

ENTERPRISE_EMAIL = "user@yuli.example.cn"
OFFICER_EMAIL = "officer@kjj.example.cn"
# The XRD's enterprise prices (tests.web.seed): machine time and phase analysis.
HOUR_FEN, SAMPLE_FEN = 60_000, 30_000


@dataclass(frozen=True)
class Vouchers:
    """An enterprise of Zhengzhou with a person, its bureau officer, a programme paying half
    of each fee up to 1,000 yuan an order and an approved quota of 5,000 yuan for 2026."""

    enterprise: Organisation
    user: Account
    officer: Account
    programme: VoucherProgramme


def actor(session: Session, account: Account) -> Actor:
    return actor_for(get_account(session, account.id))


def zhengzhou_vouchers(session: Session, catalog: Catalog, *,
                       approved_fen: int = 500_000) -> Vouchers:
    enterprise = an_organisation(session, code="YULI", name_zh="河南豫锂新能源科技有限公司",
                                 name_en="Henan Yuli New Energy",
                                 org_type=OrganisationType.ENTERPRISE)
    user = a_person(session, enterprise, Role.DEMANDER, ENTERPRISE_EMAIL)
    bureau = an_organisation(session, code="ZZKJJ", name_zh="郑州市科学技术局",
                             name_en="Zhengzhou Science Bureau", org_type=OrganisationType.OTHER)
    officer = an_account(session, organisation=bureau, roles=(Role.BUREAU_OFFICER,),
                         region_code="410100", email=OFFICER_EMAIL, password=PASSWORD)
    officer_actor = actor(session, officer)
    when = datetime(2026, 11, 1, tzinfo=DISPLAY_TZ)
    programme = define_programme(
        session, code="ZZ-2026", region_code="410100", name_zh="郑州市科技创新券",
        name_en="Zhengzhou innovation vouchers", budget_fen=100_000_000, ratio_bps=5_000,
        per_order_cap_fen=100_000, per_enterprise_year_cap_fen=1_000_000,
        valid_from=date(2026, 1, 1), valid_until=date(2027, 12, 31), actor=officer_actor,
        now=when)
    quota = apply_for_quota(session, programme=programme, year=2026,
                            requested_fen=approved_fen, is_sme=True,
                            actor=actor(session, user), now=when)
    approve_quota(session, quota, approved_fen=approved_fen, actor=officer_actor, now=when)
    session.flush()
    return Vouchers(enterprise=enterprise, user=user, officer=officer, programme=programme)


def item(instrument: Instrument, unit: ServiceUnit) -> int:
    return next(i.id for i in instrument.service_items if i.unit == unit)


def a_settled_reservation(session: Session, instrument: Instrument, account: Account, *,
                          day: int = 25, hours: int = 2, now: datetime) -> Reservation:
    """Machine time on 2026-11-<day> from 10:00 Beijing time, used, finished and settled."""
    start = datetime(2026, 11, day, 10, tzinfo=DISPLAY_TZ)
    end = start + timedelta(hours=hours)
    user = actor(session, account)
    reservation = reserve(session, instrument=instrument, period=TimeRange(start, end),
                          mode=OperationMode.ASSISTED, idempotency_key=uuid.uuid4().hex,
                          actor=user, now=now, service_item_id=item(instrument,
                                                                    ServiceUnit.HOUR))
    check_in(session, reservation, actor=user, now=start)
    finish_reservation(session, reservation, actor=SYSTEM, now=end)
    settle(session, kind=SourceKind.RESERVATION, source_id=reservation.id, actor=SYSTEM,
           now=end + timedelta(hours=1))
    session.flush()
    return reservation


@pytest.fixture
def vouchers(session: Session, catalog: Catalog) -> Vouchers:
    return zhengzhou_vouchers(session, catalog)


class _Text(HTMLParser):
    """Collects the text inside the element whose id is `wanted`."""

    VOID = frozenset({"br", "hr", "img", "input", "link", "meta"})

    def __init__(self, wanted: str) -> None:
        super().__init__()
        self.wanted, self.depth, self.found, self.parts = wanted, 0, False, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.wanted:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def text_of(html: str, element_id: str) -> str:
    """The text inside the element with `element_id`, spaces squeezed."""
    parser = _Text(element_id)
    parser.feed(html)
    assert parser.found, element_id
    return " ".join(" ".join(parser.parts).split())


class TestPriceBox:
    def test_enterprise_sees_list_price_voucher_part_and_own_part(
            self, client: TestClient, catalog: Catalog, vouchers: Vouchers) -> None:
        sign_in(client, vouchers.user)

        html = client.get(f"/booking/instruments/{catalog.xrd.exchange_id}",
                          params={"day": "2026-11-25", "starts": "10:00", "ends": "12:00"}).text

        box = text_of(html, "price-quote")
        assert "企业价" in box
        assert "¥1,200.00" in box
        assert "郑州市科技创新券" in box
        assert "50%" in box
        assert "−¥600.00" in box
        assert "您支付 ¥600.00" in box
        order_box = text_of(html, "order-price-quote")
        assert "¥300.00" in order_box
        assert "−¥150.00" in order_box

    def test_the_per_order_cap_shows_in_english(self, client: TestClient, catalog: Catalog,
                                                vouchers: Vouchers) -> None:
        sign_in(client, vouchers.user)

        html = client.get(f"/booking/instruments/{catalog.xrd.exchange_id}",
                          params={"day": "2026-11-25", "starts": "09:00", "ends": "13:00",
                                  "lang": "en"}).text

        box = text_of(html, "price-quote")
        assert "List price (enterprise)" in box
        assert "¥2,400.00" in box
        assert "−¥1,000.00" in box
        assert "You pay ¥1,400.00" in box
        assert "¥5,000.00 left" in box

    def test_a_non_enterprise_is_told_no_voucher_applies(
            self, client: TestClient, catalog: Catalog, demander: Account,
            vouchers: Vouchers) -> None:
        sign_in(client, demander)

        html = client.get(f"/booking/instruments/{catalog.xrd.exchange_id}",
                          params={"day": "2026-11-25", "starts": "10:00", "ends": "11:00"}).text

        box = text_of(html, "price-quote")
        assert "非营利价" in box
        assert "¥300.00" in box
        assert "不适用创新券" in box

    def test_no_box_for_someone_not_signed_in(self, client: TestClient,
                                              catalog: Catalog) -> None:
        html = client.get(f"/booking/instruments/{catalog.xrd.exchange_id}").text

        assert "price-quote" not in html


class TestVouchersPage:
    def test_enterprise_sees_quota_redemptions_and_applications(
            self, client: TestClient, session: Session, catalog: Catalog,
            vouchers: Vouchers, now: datetime) -> None:
        reservation = a_settled_reservation(session, catalog.xrd, vouchers.user, now=now)
        sign_in(client, vouchers.user)

        html = client.get("/billing/vouchers").text

        assert "¥5,000.00" in text_of(html, "voucher-quotas")
        assert "¥4,400.00" in text_of(html, "voucher-totals")
        redemptions = text_of(html, "voucher-redemptions")
        assert f"R{reservation.id:07d}" in redemptions
        assert "2026-11-25" in redemptions
        assert "¥600.00" in redemptions
        assert "已批准" in text_of(html, "voucher-applications")

        english = client.get("/billing/vouchers?lang=en").text
        assert "Innovation vouchers" in english
        assert "Approved" in english

    def test_needs_a_sign_in(self, client: TestClient, vouchers: Vouchers) -> None:
        response = client.get("/billing/vouchers", follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=")

    def test_another_enterprises_vouchers_are_refused(
            self, client: TestClient, session: Session, catalog: Catalog,
            vouchers: Vouchers) -> None:
        other = an_organisation(session, org_type=OrganisationType.ENTERPRISE)
        sign_in(client, vouchers.user)

        assert client.get(f"/billing/vouchers?org={other.code}").status_code == 403

    def test_the_bureau_reads_an_enterprise_of_its_region(
            self, client: TestClient, vouchers: Vouchers) -> None:
        sign_in(client, vouchers.officer)

        response = client.get("/billing/vouchers?org=YULI")

        assert response.status_code == 200
        assert "河南豫锂新能源科技有限公司" in response.text


class TestProgrammesPage:
    def test_officer_sees_budget_use_and_a_chart_by_month(
            self, client: TestClient, session: Session, catalog: Catalog,
            vouchers: Vouchers, now: datetime) -> None:
        a_settled_reservation(session, catalog.xrd, vouchers.user, now=now)
        sign_in(client, vouchers.officer)

        html = client.get("/billing/programmes").text

        row = text_of(html, "programme-list")
        assert "郑州市科技创新券" in row
        assert "ZZ-2026" in row
        assert "¥1,000,000.00" in row
        assert "¥600.00" in row
        assert "¥999,400.00" in row
        chart = re.search(r'<svg class="chart" id="programme-chart".*?</svg>', html, re.DOTALL)
        assert chart is not None
        assert chart.group(0).count("<rect") == 12
        assert "2026-11: ¥600.00" in chart.group(0)

    def test_a_demander_may_not(self, client: TestClient, vouchers: Vouchers) -> None:
        sign_in(client, vouchers.user)

        assert client.get("/billing/programmes?region=410100").status_code == 403


class TestStatementsPage:
    def test_provider_picks_a_period_and_reads_its_lines(
            self, client: TestClient, session: Session, catalog: Catalog,
            vouchers: Vouchers, provider: Account, now: datetime) -> None:
        a_settled_reservation(session, catalog.xrd, vouchers.user, now=now)
        sign_in(client, provider)

        html = client.get("/billing/statements", params={"from": "2026-11-01",
                                                         "to": "2026-11-30"}).text

        lines = text_of(html, "statement-lines")
        assert "结算" in lines
        assert "¥1,200.00" in lines
        assert ("/api/billing/statements/ZZU?from=2026-11-01&amp;to=2026-12-01&amp;format=xlsx"
                in html)
        assert "format=pdf" in html
        assert "¥-1,200.00" in text_of(html, "statement-totals")

    def test_this_month_by_default(self, client: TestClient, catalog: Catalog,
                                   provider: Account) -> None:
        sign_in(client, provider)

        html = client.get("/billing/statements").text

        assert 'value="2026-11-01"' in html
        assert 'value="2026-11-30"' in html
        assert "本期无记账" in html

    def test_a_bad_date_is_marked(self, client: TestClient, catalog: Catalog,
                                  provider: Account) -> None:
        sign_in(client, provider)

        response = client.get("/billing/statements", params={"from": "yesterday"})

        assert response.status_code == 422
        assert 'id="from-error"' in response.text

    def test_another_organisations_statement_is_refused(
            self, client: TestClient, catalog: Catalog, other_provider: Account) -> None:
        sign_in(client, other_provider)

        assert client.get("/billing/statements?org=ZZU&from=bad").status_code == 403


class TestNavigation:
    @pytest.mark.parametrize(("who", "shown", "hidden"), [
        ("enterprise", ["/billing/vouchers"], ["/billing/programmes", "/billing/statements"]),
        ("officer", ["/billing/programmes"], ["/billing/vouchers", "/billing/statements"]),
        ("provider", ["/billing/statements"], ["/billing/vouchers", "/billing/programmes"]),
    ])
    def test_each_role_sees_its_billing_pages(
            self, client: TestClient, vouchers: Vouchers, provider: Account, who: str,
            shown: list[str], hidden: list[str]) -> None:
        sign_in(client, {"enterprise": vouchers.user, "officer": vouchers.officer,
                         "provider": provider}[who])

        nav = re.search(r'<nav class="main">(.*?)</nav>', client.get("/").text, re.DOTALL)

        assert nav is not None
        for link in shown:
            assert f'href="{link}"' in nav.group(1), link
        for link in hidden:
            assert f'href="{link}"' not in nav.group(1), link
