from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from scishare.core.database import Base


class Region(Base):
    """A province or city, keyed by its 6-digit national administrative division code."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
