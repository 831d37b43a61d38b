"""Matching a need to ranked, explained offers under the user's constraints."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scishare.accounts.models import OrganisationType
from scishare.accounts.service import SYSTEM
from scishare.booking.models import BlackoutKind
from scishare.booking.periods import TimeRange
from scishare.booking.service import add_blackout
from scishare.catalog.service import get_instrument
from scishare.matching.errors import BadNeed
from scishare.matching.models import NeedRecord
from scishare.matching.schemas import MatchRequest, RegionMode, UserCategory
from scishare.matching.service import Engine, ask, choose_offer, match
from tests.accounts.factories import an_account, an_organisation
from tests.matching.factories import Catalog

CATHODE = "锂电池正极材料的晶体结构和物相"


def _first_technique(session: Session, matcher: Engine, need: str) -> str:
    return match(session, MatchRequest(need=need), engine=matcher).offers[0].techniques[0]


class TestMatch:
    def test_chinese_need_gets_explained_offers(self, session: Session, matcher: Engine,
                                                catalog: Catalog) -> None:
        result = match(session, MatchRequest(need=CATHODE), engine=matcher)

        first = result.offers[0]
        assert first.techniques[0] == "XRD"
        assert "锂电池正极材料 -> 晶体结构/物相组成 -> XRD" in first.explanation
        assert "锂电池正极材料" in first.matched
        assert first.instrument.id in catalog.ids("xrd_zz", "xrd_ly", "xrd_jn")
        assert first.service is not None
        assert first.service.name_zh.startswith("物相")
        assert 0 < first.score <= 1

    def test_output_has_the_shape_of_the_interface(self, session: Session,
                                                   matcher: Engine) -> None:
        result = match(session, MatchRequest(need=CATHODE, top=3), engine=matcher)
        dumped = result.model_dump()

        assert {"query", "took_ms", "offers"} <= set(dumped)
        offer = dumped["offers"][0]
        assert {"rank", "score", "instrument", "techniques", "service",
                "explanation"} <= set(offer)
        assert {"id", "name_zh", "name_en", "class_code", "organisation",
                "region"} <= set(offer["instrument"])
        assert {"name_zh", "price_fen", "unit"} <= set(offer["service"])
        assert [o["rank"] for o in dumped["offers"]] == [1, 2, 3]

    def test_one_offer_per_instrument(self, session: Session, matcher: Engine) -> None:
        offers = match(session, MatchRequest(need="X射线衍射", top=50), engine=matcher).offers

        ids = [o.instrument.id for o in offers]
        assert len(ids) == len(set(ids))

    @pytest.mark.parametrize(("need", "technique"), [
        ("Specific surface area of a catalyst powder by nitrogen adsorption", "BET"),
        ("药品中的元素杂质，按ICH Q3D", "ICPMS"),
        ("用核磁确认化合物结构", "NMR"),
        ("按GB/T 19587出个报告", "BET"),
    ])
    def test_finds_the_technique_behind_the_words(self, session: Session, matcher: Engine,
                                                  need: str, technique: str) -> None:
        assert _first_technique(session, matcher, need) == technique

    def test_english_explanations_use_english_names(self, session: Session,
                                                    matcher: Engine) -> None:
        first = match(session, MatchRequest(
            need="phase identification of a lithium-ion battery cathode material"),
            engine=matcher).offers[0]

        assert first.techniques[0] == "XRD"
        assert any(line.endswith("-> XRD") and "Lithium-ion" in line
                   for line in first.explanation)


class TestConstraints:
    def test_closed_instruments_are_left_out_unless_asked_for(
            self, session: Session, matcher: Engine, catalog: Catalog) -> None:
        shown = {o.instrument.id for o in match(
            session, MatchRequest(need=CATHODE, top=50), engine=matcher).offers}
        everything = {o.instrument.id for o in match(
            session, MatchRequest(need=CATHODE, top=50, open_external_only=False),
            engine=matcher).offers}

        assert catalog.ids("xrd_closed").isdisjoint(shown)
        assert catalog.ids("xrd_closed") <= everything

    def test_within_a_city(self, session: Session, matcher: Engine, catalog: Catalog) -> None:
        offers = match(session, MatchRequest(need=CATHODE, region_code="410300", top=50),
                       engine=matcher).offers

        assert {o.instrument.id for o in offers} == catalog.ids("xrd_ly", "nmr")
        assert offers[0].instrument.id in catalog.ids("xrd_ly")

    def test_a_province_includes_its_cities(self, session: Session, matcher: Engine,
                                            catalog: Catalog) -> None:
        offers = match(session, MatchRequest(need=CATHODE, region_code="410000", top=50),
                       engine=matcher).offers

        ids = {o.instrument.id for o in offers}
        assert catalog.ids("xrd_zz", "xrd_ly") <= ids
        assert catalog.ids("xrd_jn").isdisjoint(ids)

    def test_nearest_first_among_equally_good_offers(self, session: Session, matcher: Engine,
                                                     catalog: Catalog) -> None:
        offers = match(session, MatchRequest(need=CATHODE, region_code="370100",
                                             region_mode=RegionMode.NEAREST, top=3),
                       engine=matcher).offers

        assert [o.instrument.id for o in offers[:3]] == [
            catalog.by_name[n].exchange_id for n in ("xrd_jn", "xrd_zz", "xrd_ly")]
        distances = [o.distance_km for o in offers[:3]]
        assert distances[0] is not None
        assert distances[0] < 20

    def test_budget_keeps_offers_the_user_can_pay_for(self, session: Session, matcher: Engine,
                                                      catalog: Catalog) -> None:
        offers = match(session, MatchRequest(need=CATHODE, budget_fen=25_000, top=50),
                       engine=matcher).offers

        xrd = [o for o in offers if o.techniques[0] == "XRD"]
        assert {o.instrument.id for o in xrd} == catalog.ids("xrd_ly")
        assert all(o.service is not None and o.service.price_fen <= 25_000 for o in offers)

    def test_price_is_the_users_category(self, session: Session, matcher: Engine,
                                         catalog: Catalog) -> None:
        offers = match(session, MatchRequest(need=CATHODE, region_code="410300",
                                             user_category=UserCategory.NONPROFIT),
                       engine=matcher).offers

        assert offers[0].service is not None
        assert offers[0].service.price_fen == 15_000

    def test_accreditation_required(self, session: Session, matcher: Engine,
                                    catalog: Catalog) -> None:
        cma = match(session, MatchRequest(need=CATHODE, require_cma=True, top=50),
                    engine=matcher).offers
        cnas = match(session, MatchRequest(need=CATHODE, require_cnas=True, top=50),
                     engine=matcher).offers

        assert {o.instrument.id for o in cma} == catalog.ids("xrd_zz", "icpms")
        assert {o.instrument.id for o in cnas} == catalog.ids("xrd_jn")


class TestBadNeed:
    @pytest.mark.parametrize(("request_", "field", "reason"), [
        (MatchRequest(need="   "), "need", "empty"),
        (MatchRequest(need="测" * 10_000), "need", "10000 characters"),
        (MatchRequest(need=CATHODE, region_code="999999"), "region_code", "unknown region"),
        (MatchRequest(need=CATHODE, region_code="zz"), "region_code", "unknown region"),
        (MatchRequest(need=CATHODE, budget_fen=-1), "budget_fen", "negative"),
        (MatchRequest(need=CATHODE, top=0), "top", "between"),
    ], ids=["empty", "too-long", "unknown-region", "malformed-region", "negative-budget",
            "top"])
    def test_names_field_and_reason_and_stores_nothing(
            self, session: Session, matcher: Engine, now: datetime, request_: MatchRequest,
            field: str, reason: str) -> None:
        with pytest.raises(BadNeed) as caught:
            ask(session, request_, asker=None, now=now)

        assert (caught.value.record, caught.value.field) == ("need", field)
        assert reason in caught.value.reason
        assert session.scalar(select(func.count()).select_from(NeedRecord)) == 0


class TestAsk:
    def test_records_the_need_with_who_asked(self, session: Session, matcher: Engine,
                                             now: datetime) -> None:
        enterprise = an_organisation(session, org_type=OrganisationType.ENTERPRISE)
        asker = an_account(session, organisation=enterprise)

        result = ask(session, MatchRequest(need=CATHODE), asker=asker, now=now)

        record = session.get(NeedRecord, result.need_id)
        assert record is not None
        assert (record.text, record.organisation_type, record.region_code) == (
            CATHODE, "enterprise", "410100")
        assert record.technique_code == "XRD"
        assert record.industry_code is not None
        assert record.best_score == result.offers[0].score
        assert not record.is_unmet

    def test_a_need_without_offers_is_unmet(self, session: Session, matcher: Engine,
                                            now: datetime) -> None:
        result = ask(session, MatchRequest(need=CATHODE, require_cma=True, require_cnas=True),
                     asker=None, now=now)

        record = session.get(NeedRecord, result.need_id)
        assert record is not None
        assert record.is_unmet
        assert record.offer_count == 0

    def test_remembers_the_chosen_offer(self, session: Session, matcher: Engine,
                                        catalog: Catalog, now: datetime) -> None:
        result = ask(session, MatchRequest(need=CATHODE), asker=None, now=now)
        assert result.need_id is not None

        record = choose_offer(session, need_id=result.need_id,
                              instrument_exchange_id=result.offers[0].instrument.id,
                              asker=None, now=now)

        assert record.chosen_instrument_id in {i.id for i in catalog.by_name.values()}
        assert record.chosen_at == now

    def test_offers_say_when_the_instrument_is_next_free(self, session: Session,
                                                         matcher: Engine, now: datetime) -> None:
        first = ask(session, MatchRequest(need=CATHODE, top=3, with_next_free=True),
                    asker=None, now=now).offers[0]
        assert first.next_free_at is not None
        assert first.next_free_at > now
        instrument = get_instrument(session, first.instrument.id)
        add_blackout(session, instrument=instrument, kind=BlackoutKind.MAINTENANCE,
                     period=TimeRange(first.next_free_at, first.next_free_at + timedelta(days=3)),
                     reason="年度维护", actor=SYSTEM, now=now)

        again = ask(session, MatchRequest(need=CATHODE, top=3, with_next_free=True),
                    asker=None, now=now).offers[0]

        assert again.instrument.id == first.instrument.id
        assert again.next_free_at is not None
        assert again.next_free_at >= first.next_free_at + timedelta(days=3)
        assert ask(session, MatchRequest(need=CATHODE, top=3), asker=None,
                   now=now).offers[0].next_free_at is None
