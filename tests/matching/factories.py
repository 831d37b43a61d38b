"""A small catalog across two Henan cities and another province, built through the services."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from scishare.catalog.models import Instrument
from scishare.regions.schemas import RegionCreate
from scishare.regions.service import register_region
from tests.accounts.factories import an_organisation, henan
from tests.catalog.factories import a_service_item, an_instrument


@dataclass
class Catalog:
    by_name: dict[str, Instrument] = field(default_factory=dict)

    def ids(self, *names: str) -> set[str]:
        return {self.by_name[n].exchange_id for n in names}


def regions(session: Session) -> None:
    henan(session)
    register_region(session, RegionCreate(code="410300", name_zh="洛阳市", name_en="Luoyang",
                                          parent_code="410000", latitude=34.62,
                                          longitude=112.45))
    register_region(session, RegionCreate(code="370000", name_zh="山东省", name_en="Shandong",
                                          latitude=36.67, longitude=117.02))
    register_region(session, RegionCreate(code="370100", name_zh="济南市", name_en="Jinan",
                                          parent_code="370000", latitude=36.65,
                                          longitude=117.12))


def a_catalog(session: Session) -> Catalog:
    """Instruments of several techniques; XRD in three cities with different terms."""
    regions(session)
    zhengzhou = an_organisation(session, region_code="410100")
    luoyang = an_organisation(session, region_code="410300")
    jinan = an_organisation(session, region_code="370100")
    made = Catalog()

    def add(name: str, organisation: object, **values: object) -> None:
        made.by_name[name] = an_instrument(session, organisation=organisation,  # type: ignore[arg-type]
                                           **values)

    xrd = {"name_zh": "X射线衍射仪", "name_en": "X-ray diffractometer", "class_code": "0103",
           "technique_codes": ["XRD", "HRXRD_XRR"]}
    add("xrd_zz", zhengzhou, **xrd, model="D8 ADVANCE", manufacturer="Bruker",
        latitude=34.80, longitude=113.66, has_cma=True,
        service_items=[a_service_item(name_zh="物相定性分析", price_enterprise_fen=30_000),
                       a_service_item(name_zh="Rietveld精修", price_enterprise_fen=80_000)])
    add("xrd_ly", luoyang, **xrd, model="SmartLab", manufacturer="Rigaku",
        latitude=34.62, longitude=112.45,
        service_items=[a_service_item(name_zh="物相分析", price_enterprise_fen=20_000)])
    add("xrd_jn", jinan, **xrd, model="Empyrean", manufacturer="Malvern Panalytical",
        latitude=36.65, longitude=117.12, has_cnas=True,
        service_items=[a_service_item(name_zh="物相分析", price_enterprise_fen=50_000)])
    add("xrd_closed", zhengzhou, **xrd, model="MiniFlex 600", manufacturer="Rigaku",
        latitude=34.75, longitude=113.62, is_open_external=False)
    add("sem", zhengzhou, name_zh="场发射扫描电子显微镜", name_en="Field-emission SEM",
        model="Sigma 300", manufacturer="ZEISS", class_code="0101",
        technique_codes=["SEM_EDS"], latitude=34.81, longitude=113.55)
    add("bet", zhengzhou, name_zh="比表面及孔径分析仪", name_en="Surface area and porosity "
        "analyzer", model="ASAP 2460", manufacturer="Micromeritics", class_code="0205",
        technique_codes=["BET"], latitude=34.78, longitude=113.70)
    add("icpms", zhengzhou, name_zh="电感耦合等离子体质谱仪", name_en="ICP-MS",
        model="iCAP RQ", manufacturer="Thermo Fisher", class_code="0102",
        technique_codes=["ICPMS"], latitude=34.78, longitude=113.60, has_cma=True)
    add("tga", zhengzhou, name_zh="热重分析仪", name_en="Thermogravimetric analyzer",
        model="TGA 5500", manufacturer="TA Instruments", class_code="0109",
        technique_codes=["TGA"], latitude=34.77, longitude=113.64)
    add("nmr", luoyang, name_zh="核磁共振波谱仪", name_en="NMR spectrometer",
        model="AVANCE NEO 400", manufacturer="Bruker", class_code="0106",
        technique_codes=["NMR"], latitude=34.63, longitude=112.44)
    return made
