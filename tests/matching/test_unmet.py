"""The unmet-demand monitor for bureau officers."""

from datetime import datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.accounts.models import Role
from scishare.accounts.service import Actor, actor_for, get_account
from scishare.matching.errors import BadNeed
from scishare.matching.schemas import MatchRequest
from scishare.matching.service import Engine, ask
from scishare.matching.unmet import unmet_needs, unmet_report, unmet_xlsx
from tests.accounts.factories import an_account


def _officer(session: Session, region_code: str) -> Actor:
    account = an_account(session, roles=(Role.BUREAU_OFFICER,), region_code=region_code)
    return actor_for(get_account(session, account.id))


@pytest.fixture
def asked(session: Session, matcher: Engine, now: datetime) -> None:
    """Two answered needs and two unanswered ones in Zhengzhou, one need in Jinan."""
    ask(session, MatchRequest(need="锂电池正极材料的物相", region_code="410100"), asker=None,
        now=now)
    ask(session, MatchRequest(need="X射线衍射", region_code="410100"), asker=None,
        now=now + timedelta(days=1))
    ask(session, MatchRequest(need="正极材料的物相", region_code="410100", require_cma=True,
                              require_cnas=True), asker=None, now=now + timedelta(days=2))
    ask(session, MatchRequest(need="药品中的元素杂质", region_code="410100", budget_fen=1),
        asker=None, now=now + timedelta(days=40))
    ask(session, MatchRequest(need="物相分析", region_code="370100", require_cma=True),
        asker=None, now=now)


@pytest.mark.usefixtures("asked")
class TestUnmetReport:
    def test_counts_unmet_needs_by_month_technique_and_region(
            self, session: Session, now: datetime) -> None:
        report = unmet_report(session, actor=_officer(session, "410100"), region_code="410100",
                              since=now - timedelta(days=1), until=now + timedelta(days=60))

        assert sum(r.unmet for r in report.rows) == 2
        assert {r.region_code for r in report.rows} == {"410100"}
        assert sum(asked for asked, _ in report.by_period.values()) == 4
        assert sum(missed for _, missed in report.by_period.values()) == 2
        assert len(report.by_period) == 2

    def test_a_province_officer_sees_its_cities(self, session: Session, now: datetime) -> None:
        report = unmet_report(session, actor=_officer(session, "410000"), region_code="410000",
                              since=now - timedelta(days=1), until=now + timedelta(days=60))

        assert sum(asked for asked, _ in report.by_period.values()) == 4

    def test_officers_of_another_province_are_refused(self, session: Session,
                                                      now: datetime) -> None:
        with pytest.raises(NotAllowed):
            unmet_report(session, actor=_officer(session, "370100"), region_code="410100",
                         since=now, until=now + timedelta(days=1))

    def test_demanders_are_refused(self, session: Session, now: datetime) -> None:
        demander = actor_for(get_account(session, an_account(session).id))

        with pytest.raises(NotAllowed):
            unmet_report(session, actor=demander, region_code="410100", since=now,
                         until=now + timedelta(days=1))

    def test_rejects_a_backwards_period(self, session: Session, now: datetime) -> None:
        with pytest.raises(BadNeed) as caught:
            unmet_report(session, actor=_officer(session, "410100"), region_code="410100",
                         since=now, until=now - timedelta(days=1))
        assert caught.value.field == "since"

    def test_lists_the_unmet_needs_themselves(self, session: Session, now: datetime) -> None:
        needs = unmet_needs(session, actor=_officer(session, "410100"), region_code="410100",
                            since=now - timedelta(days=1), until=now + timedelta(days=60))

        assert [n.text for n in needs] == ["药品中的元素杂质", "正极材料的物相"]

    def test_exports_a_workbook_with_a_chart(self, session: Session, now: datetime) -> None:
        report = unmet_report(session, actor=_officer(session, "410100"), region_code="410100",
                              since=now - timedelta(days=1), until=now + timedelta(days=60))

        book = load_workbook(BytesIO(unmet_xlsx(report, region_code="410100")))

        table = book.worksheets[0]
        assert table.cell(1, 6).value == "未满足 Unmet"
        assert sum(table.cell(r, 6).value for r in range(2, table.max_row + 1)) == 2
        assert book.worksheets[1].max_row == 3
