"""Reference data: regions, the national classification and the technique vocabulary."""

from __future__ import annotations

from fastapi import APIRouter

from scishare.catalog.schemas import NationalClassRead, TechniqueRead
from scishare.catalog.service import list_classes, list_techniques
from scishare.regions.schemas import RegionRead
from scishare.regions.service import list_regions
from scishare.web.deps import SessionDep

router = APIRouter(tags=["reference"])


@router.get("/regions", summary="Administrative regions (province, city)")
def regions(session: SessionDep) -> list[RegionRead]:
    return [RegionRead.model_validate(region) for region in list_regions(session)]


@router.get("/classes", summary="The national instrument classification (major, medium)")
def classes(session: SessionDep) -> list[NationalClassRead]:
    return [NationalClassRead.model_validate(found) for found in list_classes(session)]


@router.get("/techniques", summary="Test techniques instruments are tagged with")
def techniques(session: SessionDep) -> list[TechniqueRead]:
    return [TechniqueRead.model_validate(found) for found in list_techniques(session)]
