"""Requests and results of matching, shaped as `shared/design/interfaces.md` says."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

MAX_NEED_CHARS = 1000
MAX_TOP = 50


class UserCategory(StrEnum):
    INTERNAL = "internal"
    """校内 — a user of the owning organisation."""
    NONPROFIT = "nonprofit"
    """非营利 — an external non-profit user (cost recovery)."""
    ENTERPRISE = "enterprise"
    """企业 — an enterprise (market price)."""


class RegionMode(StrEnum):
    WITHIN = "within"
    """Only offers inside the region (a province includes its cities)."""
    NEAREST = "nearest"
    """Offers anywhere, nearer ones first among equally good ones."""


class MatchRequest(BaseModel):
    """A need and the user's constraints. Checked by the service, which names the bad field."""

    need: str
    region_code: str | None = None
    region_mode: RegionMode = RegionMode.WITHIN
    latitude: float | None = None
    longitude: float | None = None
    budget_fen: int | None = None
    user_category: UserCategory = UserCategory.ENTERPRISE
    require_cma: bool = False
    require_cnas: bool = False
    open_external_only: bool = True
    top: int = 10
    # Look up each offer's next free machine time (a few queries per offer, so opt-in).
    with_next_free: bool = False


class InstrumentBrief(BaseModel):
    id: str
    name_zh: str
    name_en: str
    class_code: str
    organisation: str
    organisation_en: str
    region: str
    model: str
    manufacturer: str


class ServiceBrief(BaseModel):
    id: int
    name_zh: str
    name_en: str
    price_fen: int
    unit: str


class Offer(BaseModel):
    rank: int
    score: float
    instrument: InstrumentBrief
    techniques: list[str]
    service: ServiceBrief | None
    explanation: list[str]
    matched: list[str]
    distance_km: float | None = None
    next_free_at: datetime | None = None
    """Start of the earliest bookable period of the instrument's shortest booking length."""


class MatchResult(BaseModel):
    query: str
    took_ms: float
    offers: list[Offer]
    lang: str = "zh"
    need_id: int | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)


class SubscriptionCreate(BaseModel):
    need: str
    region_code: str | None = None
    budget_fen: int | None = None
    user_category: UserCategory = UserCategory.ENTERPRISE
    require_cma: bool = False
    require_cnas: bool = False
    threshold: float = Field(default=0.5, gt=0, lt=1)


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    need: str
    region_code: str | None
    budget_fen: int | None
    user_category: UserCategory
    require_cma: bool
    require_cnas: bool
    threshold: float
    is_active: bool
    created_at: datetime


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subscription_id: int
    score: float
    reason: str
    explanation: str
    created_at: datetime
    read_at: datetime | None
    instrument_exchange_id: str = ""
    instrument_name_zh: str = ""


class UnmetRow(BaseModel):
    """Unmet needs in one period, grouped by what they were about."""

    period: str
    technique_code: str | None
    industry_code: str | None
    region_code: str | None
    needs: int
    unmet: int


class UnmetReport(BaseModel):
    rows: list[UnmetRow]
    by_period: dict[str, tuple[int, int]]
    threshold: float
