import pytest
from sqlalchemy.orm import Session

from scishare.core.errors import InvalidInput, NotFound
from scishare.regions.schemas import RegionCreate
from scishare.regions.service import get_region, region_and_descendants, register_region


class TestRegisterRegion:
    def test_city_hangs_under_its_province(self, session: Session) -> None:
        register_region(session, RegionCreate(code="410000", name_zh="河南省", name_en="Henan"))
        register_region(session, RegionCreate(code="410300", name_zh="洛阳市",
                                              name_en="Luoyang", parent_code="410000"))

        assert region_and_descendants(session, "410000") == ["410000", "410300"]

    def test_rejects_unknown_parent(self, session: Session) -> None:
        with pytest.raises(InvalidInput) as raised:
            register_region(session, RegionCreate(code="370100", name_zh="济南市",
                                                  name_en="Jinan", parent_code="370000"))
        assert (raised.value.record, raised.value.field) == ("region 370100", "parent_code")

    def test_unknown_code_is_not_found(self, session: Session) -> None:
        with pytest.raises(NotFound):
            get_region(session, "999999")
