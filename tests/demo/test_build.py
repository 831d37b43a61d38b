"""Building the demo: calibration on Zhengzhou's figures, determinism, refusals, scale."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, selectinload

from scishare.accounts.models import Organisation, OrganisationType, Role
from scishare.accounts.schemas import CREDIT_CODE
from scishare.accounts.service import get_account, sign_in
from scishare.catalog.models import Instrument, InstrumentTechnique, LifecycleState
from scishare.catalog.service import catalog_stats
from scishare.core.database import make_engine
from scishare.core.migrations import upgrade
from scishare.demo.builder import (
    DEMO_NOW,
    DEMO_PASSWORD,
    DatabaseNotEmpty,
    DemoAlreadyBuilt,
    DemoSummary,
    build_demo,
)
from scishare.demo.identifiers import is_valid_credit_code
from scishare.demo.sources import DemoSources
from tests.accounts.factories import an_organisation

PUBLISHED_VALUE_FEN = 4_000_000_000 * 100
CITY_PREFIXES = {"410100": "ZZ", "410300": "LY", "410700": "XX", "370100": "JN"}


def fresh_engine(path: Path) -> Engine:
    """An empty SQLite database at head, as `scishare db upgrade` leaves it."""
    url = f"sqlite:///{path}"
    upgrade(url)
    return make_engine(url)


def build_into(engine: Engine, **options: object) -> DemoSummary:
    with Session(engine) as session:
        summary = build_demo(session, **options)  # type: ignore[arg-type]
        session.commit()
    return summary


def exported(engine: Engine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every organisation and instrument as plain tuples of their fields, in key order."""
    with Session(engine) as session:
        organisations = {o.id: o for o in session.scalars(select(Organisation))}
        instruments = session.scalars(select(Instrument).order_by(Instrument.exchange_id)
                                      .options(selectinload(Instrument.techniques),
                                               selectinload(Instrument.service_items)))
        instrument_rows: list[tuple[object, ...]] = [(
            i.exchange_id, organisations[i.organisation_id].code, i.name_zh, i.name_en,
            i.model, i.manufacturer, i.country_of_origin, i.class_code, i.specifications,
            i.functions, i.original_value_fen, i.purchased_on, i.region_code, i.address,
            i.latitude, i.longitude, i.lifecycle_state, i.is_open_external, i.has_cma,
            i.has_cnas, i.contact_name, i.contact_phone, i.contact_email,
            tuple(i.technique_codes),
            tuple((s.name_zh, s.name_en, s.unit, s.price_internal_fen, s.price_nonprofit_fen,
                   s.price_enterprise_fen) for s in i.service_items)) for i in instruments]
        organisation_rows: list[tuple[object, ...]] = sorted(
            (o.code, o.name_zh, o.name_en, o.org_type, o.region_code, o.credit_code,
             o.cma_number, o.cnas_number) for o in organisations.values())
    return organisation_rows, instrument_rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The default, calibrated demo, built once for this module (SQLite)."""
    engine = fresh_engine(tmp_path_factory.mktemp("demo") / "demo.db")
    build_into(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def demo_session(demo: Engine) -> Iterator[Session]:
    with Session(demo) as session:
        yield session
        session.rollback()


class TestCalibratedDemo:
    def test_zhengzhou_holds_the_published_counts(self, demo_session: Session) -> None:
        stats = catalog_stats(demo_session, region_code="410100")

        assert stats.instruments == 5033
        assert stats.organisations == 144
        assert stats.instruments_by_org_type["university"] == 2579
        assert stats.instruments_by_org_type["institute"] == 1570
        assert sum(count for org_type, count in stats.instruments_by_org_type.items()
                   if org_type not in {"university", "institute"}) == 884
        assert set(stats.instruments_by_org_type) == {t.value for t in OrganisationType}

    def test_zhengzhou_is_worth_about_four_billion_yuan(self, demo_session: Session) -> None:
        stats = catalog_stats(demo_session, region_code="410100")
        assert abs(stats.total_value_fen - PUBLISHED_VALUE_FEN) <= 0.03 * PUBLISHED_VALUE_FEN

    def test_analytical_instruments_dominate(self, demo_session: Session) -> None:
        by_major = catalog_stats(demo_session, region_code="410100").instruments_by_major_class

        assert max(by_major, key=lambda code: by_major[code]) == "01"
        assert by_major["01"] > sum(by_major.values()) / 2

    def test_every_technique_is_offered_by_three_zhengzhou_instruments(
            self, demo_session: Session) -> None:
        offered = dict(demo_session.execute(
            select(InstrumentTechnique.technique_code, func.count())
            .join(Instrument, Instrument.id == InstrumentTechnique.instrument_id)
            .where(Instrument.region_code == "410100")
            .group_by(InstrumentTechnique.technique_code)).all())
        techniques = [t.code for t in DemoSources.load().techniques]

        assert {code: offered.get(code, 0) for code in techniques
                if offered.get(code, 0) < 3} == {}

    def test_other_cities_have_their_own_instruments_and_owners(
            self, demo_session: Session) -> None:
        stats = catalog_stats(demo_session)
        by_region = stats.instruments_by_region
        owner_regions = set(demo_session.scalars(select(Organisation.region_code)))
        mismatched = demo_session.scalar(select(func.count()).select_from(Instrument).where(
            Instrument.region_code != select(Organisation.region_code).where(
                Organisation.id == Instrument.organisation_id).scalar_subquery()))

        assert set(by_region) == set(CITY_PREFIXES)
        assert 200 <= sum(by_region.values()) - by_region["410100"] <= 400
        assert owner_regions >= set(CITY_PREFIXES)
        assert mismatched == 0

    def test_instruments_are_plausible_records(self, demo_session: Session) -> None:
        instruments = list(demo_session.scalars(select(Instrument).options(
            selectinload(Instrument.service_items), selectinload(Instrument.techniques))))
        states = Counter(i.lifecycle_state for i in instruments)
        city_centres = {r.code: (r.latitude, r.longitude)
                        for r in DemoSources.load().regions}

        assert states[LifecycleState.IN_SERVICE] > 0.8 * len(instruments)
        assert set(states) == set(LifecycleState)
        assert sum(i.is_open_external for i in instruments) > 0.8 * len(instruments)
        for instrument in instruments:
            prefix = CITY_PREFIXES[instrument.region_code]
            assert re.fullmatch(rf"{prefix}-\d{{7}}", instrument.exchange_id)
            assert 1 <= len(instrument.technique_codes) <= 3
            assert 1 <= len(instrument.service_items) <= 3
            assert instrument.purchased_on is not None
            assert date(2005, 1, 1) <= instrument.purchased_on <= date(2025, 12, 31)
            assert not (instrument.lifecycle_state == LifecycleState.RETIRED
                        and instrument.is_open_external)
            latitude, longitude = city_centres[instrument.region_code]
            assert instrument.latitude is not None
            assert instrument.longitude is not None
            assert abs(instrument.latitude - latitude) < 0.5
            assert abs(instrument.longitude - longitude) < 0.5
            assert instrument.contact_name
            assert instrument.contact_phone
            assert instrument.specifications
            assert instrument.functions
            for item in instrument.service_items:
                assert (item.price_internal_fen < item.price_nonprofit_fen
                        < item.price_enterprise_fen)

    def test_service_tiers_follow_published_ratios(self, demo_session: Session) -> None:
        instruments = demo_session.scalars(select(Instrument).options(
            selectinload(Instrument.service_items)))
        # Fen-level prices (core-hours) are distorted by rounding; check the rest.
        items = [item for i in instruments for item in i.service_items
                 if item.price_internal_fen >= 1000]

        for item in items:
            assert 1.4 <= item.price_nonprofit_fen / item.price_internal_fen <= 1.9
            assert 2.3 <= item.price_enterprise_fen / item.price_internal_fen <= 3.5

    def test_real_models_and_domestic_makers_appear(self, demo_session: Session) -> None:
        models = set(demo_session.execute(
            select(Instrument.manufacturer, Instrument.model)
            .where(Instrument.region_code == "410100")).all())
        makers = {manufacturer for manufacturer, _ in models}

        assert {("Bruker", "D8 ADVANCE"), ("ZEISS", "Sigma 300"), ("Agilent", "7900")} <= models
        assert {"聚光科技", "钢研纳克", "国仪量子", "中科科仪", "普析通用", "天美"} <= makers

    def test_organisations_carry_valid_identifiers(self, demo_session: Session) -> None:
        organisations = list(demo_session.scalars(select(Organisation)))

        for organisation in organisations:
            assert organisation.credit_code is not None
            assert CREDIT_CODE.match(organisation.credit_code)
            assert is_valid_credit_code(organisation.credit_code)
        testing_bodies = [o for o in organisations if o.org_type == "testing_body"]
        assert all(o.cma_number for o in testing_bodies)
        assert sum(bool(o.cnas_number) for o in testing_bodies) > len(testing_bodies) / 2

    def test_demo_accounts_sign_in_with_their_roles(self, demo_session: Session) -> None:
        expected = {
            "admin@demo.scishare.cn": (Role.PLATFORM_ADMIN, None),
            "bureau@demo.scishare.cn": (Role.BUREAU_OFFICER, "410100"),
            "provider@demo.scishare.cn": (Role.PROVIDER_ADMIN, None),
            "operator@demo.scishare.cn": (Role.OPERATOR, None),
            "demander@demo.scishare.cn": (Role.DEMANDER, None),
        }
        for email, (role, region) in expected.items():
            account, _ = sign_in(demo_session, email=email, password=DEMO_PASSWORD,
                                 now=DEMO_NOW)
            grants = get_account(demo_session, account.id).role_grants
            assert [(g.role, g.region_code) for g in grants] == [(role, region)]
        provider, _ = sign_in(demo_session, email="provider@demo.scishare.cn",
                              password=DEMO_PASSWORD, now=DEMO_NOW)
        assert get_account(demo_session, provider.id).organisation.name_zh == "郑州大学"

    def test_a_second_build_is_refused_without_writing(self, demo_session: Session) -> None:
        with pytest.raises(DemoAlreadyBuilt, match="already holds the demo"):
            build_demo(demo_session)


class TestDeterminism:
    def test_same_seed_gives_identical_records_and_another_seed_others(
            self, tmp_path: Path) -> None:
        engines = [fresh_engine(tmp_path / f"{name}.db") for name in ("a", "b", "c")]
        for engine, seed in zip(engines, (7, 7, 8), strict=True):
            build_into(engine, seed=seed, scale=600)

        first, again, other = (exported(engine) for engine in engines)
        assert first == again
        assert len(first[1]) == 600
        # Another seed keeps the exchange ids and the calibrated totals, not the records.
        assert [row[0] for row in other[1]] == [row[0] for row in first[1]]
        assert other[1] != first[1]


class TestScale:
    def test_larger_catalogs_get_more_organisations(self, tmp_path: Path) -> None:
        engine = fresh_engine(tmp_path / "scaled.db")
        summary = build_into(engine, scale=6500)

        with Session(engine) as session:
            stats = catalog_stats(session, region_code="410100")
            generated = session.scalars(select(Organisation.code).where(
                Organisation.code.like("ZZ_G%"))).all()
        assert summary.instruments == 6500
        assert stats.organisations > 144
        assert len(generated) == stats.organisations - 144
        # Units stay near the published 35 instruments each instead of swelling.
        assert 25 <= stats.instruments / stats.organisations <= 45
        shares = stats.instruments_by_org_type
        assert abs(shares["university"] / stats.instruments - 2579 / 5033) < 0.001


class TestOnEachBackend:
    def test_builds_a_small_demo(self, session: Session) -> None:
        summary = build_demo(session, scale=400)

        stats = catalog_stats(session)
        assert stats.instruments == summary.instruments == 400
        assert set(stats.instruments_by_region) == set(CITY_PREFIXES)

    def test_refuses_a_database_with_other_data(self, session: Session) -> None:
        an_organisation(session)

        with pytest.raises(DatabaseNotEmpty):
            build_demo(session, scale=100)
