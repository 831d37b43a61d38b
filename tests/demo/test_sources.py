"""The demo's data files, identifiers and fee rules, without a database."""

from __future__ import annotations

from collections import Counter
from random import Random

import pytest

from scishare.accounts.models import OrganisationType
from scishare.accounts.schemas import CREDIT_CODE
from scishare.catalog.models import ServiceUnit
from scishare.core.reference import read_csv, split_list
from scishare.demo.builder import apportion, city_counts
from scishare.demo.fees import parse_fee, round_price_fen, tiered_prices
from scishare.demo.identifiers import (
    cma_number,
    cnas_number,
    code_body,
    credit_code,
    is_valid_credit_code,
    registration_category,
)
from scishare.demo.sources import DemoSources

SOURCES = DemoSources.load()
MEDIUM_CLASSES = frozenset(row["code"] for row in read_csv("instrument_classes.csv")
                           if row["level"] == "2")
TECHNIQUE_CLASSES = {row["code"]: split_list(row["class_codes"])
                     for row in read_csv("knowledge", "techniques.csv")}


class TestDataFiles:
    def test_are_consistent_with_the_reference_data(self) -> None:
        assert SOURCES.problems(class_codes=MEDIUM_CLASSES,
                                technique_codes=frozenset(TECHNIQUE_CLASSES)) == []

    def test_offer_at_least_two_real_models_per_technique(self) -> None:
        models = Counter(model.technique_code for model in SOURCES.models)

        assert set(models) == set(TECHNIQUE_CLASSES)
        assert min(models.values()) >= 2

    def test_file_models_under_one_of_their_techniques_classes(self) -> None:
        misfiled = [(m.technique_code, m.model, m.class_code) for m in SOURCES.models
                    if m.class_code not in TECHNIQUE_CLASSES[m.technique_code]]
        assert misfiled == []

    def test_list_144_providers_in_zhengzhou_as_published(self) -> None:
        zhengzhou = next(t for t in SOURCES.targets if t.region_code == "410100")
        providers = [o for o in SOURCES.organisations
                     if o.region_code == "410100" and o.is_provider]

        assert zhengzhou.organisations == len(providers) == 144
        assert {o.org_type for o in providers} == set(OrganisationType)

    def test_have_no_duplicate_names(self) -> None:
        names = [o.name_zh for o in SOURCES.organisations]
        assert len(names) == len(set(names))


class TestCityCounts:
    def test_default_is_the_calibrated_demo(self) -> None:
        counts = city_counts(SOURCES, None)

        assert counts["410100"] == 5033
        assert 200 <= sum(counts.values()) - counts["410100"] <= 400

    @pytest.mark.parametrize("scale", [1, 777, 100_000, 1_000_000])
    def test_a_scale_is_spread_over_all_cities_and_adds_up(self, scale: int) -> None:
        counts = city_counts(SOURCES, scale)

        assert sum(counts.values()) == scale
        assert max(counts, key=lambda code: counts[code]) == "410100"


class TestApportion:
    def test_adds_up_and_follows_the_weights(self) -> None:
        assert apportion(10, [1, 1, 2]) == [3, 2, 5]
        assert sum(apportion(5033, [100, 30, 1, 1, 1])) == 5033

    def test_gives_each_share_its_minimum_when_possible(self) -> None:
        assert min(apportion(10, [1000, 1, 1], minimum=1)) == 1
        assert apportion(2, [5, 1, 1], minimum=1) == [2, 0, 0]


class TestCreditCodes:
    @pytest.mark.parametrize("category", ["11", "12", "91"])
    def test_are_well_formed_and_pass_both_checks(self, category: str) -> None:
        for attempt in range(200):
            code = credit_code(category=category, division_code="410105",
                               body=code_body("ZZU01", attempt))
            assert CREDIT_CODE.match(code)
            assert is_valid_credit_code(code)

    def test_check_real_format_codes(self) -> None:
        assert is_valid_credit_code("91350100M000100Y43")
        assert not is_valid_credit_code("91350100M000100Y44")

    def test_category_follows_the_kind_of_unit(self) -> None:
        assert registration_category(org_type=OrganisationType.UNIVERSITY,
                                     name_zh="郑州大学") == "12"
        assert registration_category(org_type=OrganisationType.INSTITUTE,
                                     name_zh="郑州磨料磨具磨削研究所有限公司") == "91"
        assert registration_category(org_type=OrganisationType.OTHER,
                                     name_zh="郑州市科学技术局") == "11"

    def test_accreditation_numbers_have_the_usual_shapes(self) -> None:
        assert cma_number(year=2016, province_cma_code="16", serial=1234) == "161600001234"
        assert cnas_number(org_type=OrganisationType.HOSPITAL, serial=12) == "CNAS MT0012"
        assert cnas_number(org_type=OrganisationType.TESTING_BODY, serial=345) == "CNAS L0345"


class TestFees:
    def test_every_technique_gets_a_price_or_falls_back_to_cost_recovery(self) -> None:
        priced = {t.code: parse_fee(t.fee_text) for t in SOURCES.techniques}
        unpriced = sorted(code for code, fees in priced.items() if not fees)

        # Only "by project" or "by beam-time proposal" entries lack figures.
        assert all("按" in next(t.fee_text for t in SOURCES.techniques if t.code == code)
                   for code in unpriced)
        assert len(unpriced) < 15

    def test_reads_units_and_bases(self) -> None:
        (xrd,) = parse_fee("100-300/样")
        (cryo,) = parse_fee("~10000-30000/天")
        cpu, gpu = parse_fee("CPU~0.03-0.15/核时；GPU~2-10/卡时")

        assert (xrd.low_cny, xrd.high_cny, xrd.basis.unit) == (100, 300, ServiceUnit.SAMPLE)
        assert cryo.basis.unit is ServiceUnit.HOUR
        assert cryo.high_cny == 30000 / 24
        assert (cpu.qualifier, gpu.qualifier) == ("CPU", "GPU")
        assert gpu.basis.label_en == "per GPU-hour"

    def test_tiers_rise_in_the_published_ratios(self) -> None:
        rng = Random(1)
        for nonprofit in (15.0, 80.0, 250.0, 1800.0, 12_000.0):
            internal, middle, enterprise = tiered_prices(nonprofit, rng)
            assert internal < middle < enterprise
            assert 1.4 <= middle / internal <= 1.9
            assert 2.3 <= enterprise / internal <= 3.5

    def test_tiers_stay_ordered_at_fractions_of_a_yuan(self) -> None:
        internal, middle, enterprise = tiered_prices(0.03, Random(2))
        assert 0 < internal < middle < enterprise

    def test_prices_round_like_printed_fee_lists(self) -> None:
        assert round_price_fen(1234.0) == 123_000
        assert round_price_fen(123.0) == 12_500
        assert round_price_fen(12.3) == 1_200
        assert round_price_fen(0.034) == 3
