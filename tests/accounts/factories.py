"""Organisations and people, built through the accounts services."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from sqlalchemy.orm import Session

from scishare.accounts.models import Account, Organisation, OrganisationType, Role
from scishare.accounts.schemas import AccountCreate, OrganisationCreate
from scishare.accounts.service import register_account, register_organisation
from scishare.regions.models import Region
from scishare.regions.schemas import RegionCreate
from scishare.regions.service import register_region

WHEN = datetime(2026, 11, 1, tzinfo=UTC)
_serial = count(1)


def henan(session: Session) -> Region:
    register_region(session, RegionCreate(code="410000", name_zh="河南省", name_en="Henan",
                                          latitude=34.76, longitude=113.65))
    return register_region(session, RegionCreate(
        code="410100", name_zh="郑州市", name_en="Zhengzhou", parent_code="410000",
        latitude=34.75, longitude=113.62))


def an_organisation(session: Session, *, org_type: OrganisationType = OrganisationType.UNIVERSITY,
                    region_code: str = "410100", **overrides: object) -> Organisation:
    if region_code.startswith("41"):
        henan(session)
    n = next(_serial)
    values: dict[str, object] = {"code": f"ORG{n:04d}", "name_zh": f"测试单位{n}",
                                 "name_en": f"Test unit {n}", "org_type": org_type,
                                 "region_code": region_code}
    values.update(overrides)
    return register_organisation(session, OrganisationCreate.model_validate(values), now=WHEN)


def an_account(session: Session, *, organisation: Organisation | None = None,
               roles: tuple[Role, ...] = (Role.DEMANDER,), region_code: str | None = None,
               password: str = "correct horse battery", email: str | None = None) -> Account:
    organisation = organisation or an_organisation(session)
    n = next(_serial)
    return register_account(session, AccountCreate(
        email=email or f"person{n}@example.cn", display_name=f"用户{n}", password=password,
        organisation_id=organisation.id), now=WHEN, roles=roles, region_code=region_code)
