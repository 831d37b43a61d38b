"""Regions: registering them and reading the hierarchy."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from scishare.core.errors import InvalidInput, NotFound
from scishare.regions.models import Region
from scishare.regions.schemas import RegionCreate


def is_province_code(code: str) -> bool:
    return code.endswith("0000")


def province_of(code: str) -> str:
    """The province code of any division code (first two digits + ``0000``)."""
    return code[:2] + "0000"


def register_region(session: Session, region: RegionCreate) -> Region:
    """Add a region, or update its names if the code is known; a city needs its province."""
    if region.parent_code is not None and session.get(Region, region.parent_code) is None:
        raise InvalidInput(f"unknown parent region {region.parent_code}",
                           record=f"region {region.code}", field="parent_code")
    existing = session.get(Region, region.code)
    if existing is not None:
        for key, value in region.model_dump().items():
            setattr(existing, key, value)
        return existing
    row = Region(**region.model_dump())
    session.add(row)
    session.flush()
    return row


def get_region(session: Session, code: str) -> Region:
    region = session.get(Region, code)
    if region is None:
        raise NotFound(f"no region with code {code}", record=f"region {code}", field="code")
    return region


def list_regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.code)))


def region_and_descendants(session: Session, code: str) -> list[str]:
    """`code` and every region below it (a province and its cities)."""
    get_region(session, code)
    found = [code]
    frontier = [code]
    while frontier:
        children = list(session.scalars(select(Region.code).where(
            Region.parent_code.in_(frontier))))
        found.extend(children)
        frontier = children
    return found
