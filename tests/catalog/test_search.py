import pytest
from sqlalchemy.orm import Session

from scishare.accounts.models import OrganisationType
from scishare.catalog.schemas import InstrumentFilter
from scishare.catalog.service import catalog_stats, search_instruments
from scishare.core.errors import InvalidInput
from tests.accounts.factories import an_organisation
from tests.catalog.factories import a_service_item, an_instrument


@pytest.fixture
def catalog(session: Session) -> Session:
    university = an_organisation(session, code="ZZU", name_zh="郑州大学")
    institute = an_organisation(session, code="HNAS", name_zh="河南省科学院",
                                org_type=OrganisationType.INSTITUTE)
    an_instrument(session, organisation=university, exchange_id="ZZ-0000001")
    an_instrument(session, organisation=university, exchange_id="ZZ-0000002",
                  name_zh="场发射扫描电子显微镜", name_en="Field-emission SEM", model="Sigma 300",
                  manufacturer="ZEISS", class_code="0101", technique_codes=["SEM_EDS", "EBSD"],
                  service_items=[a_service_item(price_enterprise_fen=80_000)])
    an_instrument(session, organisation=institute, exchange_id="ZZ-0000003",
                  name_zh="电感耦合等离子体质谱仪", model="7900", manufacturer="Agilent",
                  class_code="0102", technique_codes=["ICPMS"], is_open_external=False,
                  original_value_fen=250_000_000)
    return session


def ids(session: Session, **filters: object) -> list[str]:
    page = search_instruments(session, InstrumentFilter.model_validate(filters))
    return [item.exchange_id for item in page.items]


class TestSearchInstruments:
    def test_no_filter_lists_all_by_exchange_id(self, catalog: Session) -> None:
        assert ids(catalog) == ["ZZ-0000001", "ZZ-0000002", "ZZ-0000003"]

    @pytest.mark.parametrize(("filters", "expected"), [
        ({"q": "扫描电子"}, ["ZZ-0000002"]),
        ({"q": "sigma"}, ["ZZ-0000002"]),
        ({"q": "agilent"}, ["ZZ-0000003"]),
        ({"class_code": "01"}, ["ZZ-0000001", "ZZ-0000002", "ZZ-0000003"]),
        ({"class_code": "0102"}, ["ZZ-0000003"]),
        ({"technique_code": "EBSD"}, ["ZZ-0000002"]),
        ({"organisation_code": "HNAS"}, ["ZZ-0000003"]),
        ({"is_open_external": False}, ["ZZ-0000003"]),
        ({"region_code": "410000"}, ["ZZ-0000001", "ZZ-0000002", "ZZ-0000003"]),
        ({"price_min_fen": 50_000}, ["ZZ-0000002"]),
        ({"price_max_fen": 30_000}, ["ZZ-0000001", "ZZ-0000003"]),
        ({"q": "显微镜", "class_code": "0102"}, []),
    ])
    def test_filters(self, catalog: Session, filters: dict[str, object],
                     expected: list[str]) -> None:
        assert ids(catalog, **filters) == expected

    def test_pages_and_counts(self, catalog: Session) -> None:
        page = search_instruments(catalog, InstrumentFilter(page=2, page_size=2))
        assert page.total == 3
        assert [i.exchange_id for i in page.items] == ["ZZ-0000003"]
        assert page.items[0].organisation_name_zh == "河南省科学院"

    def test_rejects_inverted_price_range(self, catalog: Session) -> None:
        with pytest.raises(InvalidInput) as raised:
            search_instruments(catalog, InstrumentFilter(price_min_fen=10, price_max_fen=1))
        assert raised.value.field == "price_min_fen"


class TestCatalogStats:
    def test_counts_by_type_class_and_region(self, catalog: Session) -> None:
        stats = catalog_stats(catalog, region_code="410100")

        assert stats.instruments == 3
        assert stats.organisations == 2
        assert stats.instruments_by_org_type == {"institute": 1, "university": 2}
        assert stats.instruments_by_major_class == {"01": 3}
        assert stats.total_value_fen == 2 * 150_000_000 + 250_000_000
