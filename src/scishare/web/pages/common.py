"""What several pages look up: names of codes, in both languages, and the choices of forms."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from scishare.catalog.models import NationalClass, Technique
from scishare.catalog.service import list_classes, list_techniques
from scishare.regions.models import Region
from scishare.regions.service import list_regions


@dataclass(frozen=True)
class Names:
    """Classes, techniques and regions by code: a few hundred rows, read once per page."""

    classes: dict[str, NationalClass]
    techniques: dict[str, Technique]
    regions: dict[str, Region]

    @classmethod
    def load(cls, session: Session) -> Names:
        return cls(classes={found.code: found for found in list_classes(session)},
                   techniques={found.code: found for found in list_techniques(session)},
                   regions={found.code: found for found in list_regions(session)})

    def class_groups(self) -> list[tuple[NationalClass, list[NationalClass]]]:
        """Major classes, each with its medium classes, for a grouped choice."""
        return [(major, [medium for medium in self.classes.values()
                         if medium.parent_code == major.code])
                for major in self.classes.values() if major.level == 1]
