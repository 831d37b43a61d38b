"""Organisations (单位): the units that own or use instruments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from scishare.accounts.schemas import OrganisationRead
from scishare.accounts.service import get_organisation_by_code, list_organisations
from scishare.regions.service import region_and_descendants
from scishare.web.api.common import errors
from scishare.web.deps import SessionDep

router = APIRouter(tags=["organisations"])


@router.get("/organisations", summary="List organisations", responses=errors(404, 422))
def listing(session: SessionDep,
            region_code: Annotated[str | None, Query(
                pattern=r"^\d{6}$", description="Only this region and the regions below it."
            )] = None) -> list[OrganisationRead]:
    regions = region_and_descendants(session, region_code) if region_code else None
    return [OrganisationRead.model_validate(organisation)
            for organisation in list_organisations(session, region_codes=regions)]


@router.get("/organisations/{code}", summary="Read an organisation", responses=errors(404))
def read(session: SessionDep, code: str) -> OrganisationRead:
    return OrganisationRead.model_validate(get_organisation_by_code(session, code))
