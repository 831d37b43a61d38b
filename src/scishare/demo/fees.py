"""Service-item prices for demo instruments, from the knowledge seed's typical fees.

The seed gives fees as text ("100-300/样", "~10000-30000/天", "CPU~0.03-0.15/核时；GPU~2-10/卡时",
"按项目报价~"). A range is read as the non-profit (other academic) price; internal users pay
less and enterprises more, in the ratios observed on published fee lists (sharing-rules.md:
internal < non-profit < enterprise, about 1 : 1.5-1.8 : 2.5-3.3). Where the seed names no
figure, the hourly price is built up from cost recovery as the rules describe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from random import Random

from scishare.catalog.models import ServiceUnit


@dataclass(frozen=True, slots=True)
class FeeBasis:
    """What a quoted fee is per: the platform's unit and how a service item names it
    (empty labels for plain samples and machine hours)."""

    unit: ServiceUnit
    label_zh: str
    label_en: str
    hours: int = 1


# Bases found in the knowledge seed's fee column. A day of beam or microscope time is booked
# as 24 machine hours; counted things (elements, spots, channel-days) are priced per sample
# with the basis in the item's name.
FEE_BASES: dict[str, FeeBasis] = {
    "样": FeeBasis(ServiceUnit.SAMPLE, "", ""),
    "小时": FeeBasis(ServiceUnit.HOUR, "", ""),
    "天": FeeBasis(ServiceUnit.HOUR, "", "", hours=24),
    "元素": FeeBasis(ServiceUnit.SAMPLE, "按元素计", "per element"),
    "件": FeeBasis(ServiceUnit.SAMPLE, "按件计", "per piece"),
    "点": FeeBasis(ServiceUnit.SAMPLE, "按测点计", "per spot"),
    "台": FeeBasis(ServiceUnit.SAMPLE, "按台计", "per device"),
    "核时": FeeBasis(ServiceUnit.HOUR, "按核时计", "per core-hour"),
    "卡时": FeeBasis(ServiceUnit.HOUR, "按卡时计", "per GPU-hour"),
    "通道·天": FeeBasis(ServiceUnit.SAMPLE, "按通道·天计", "per channel-day"),
    "样·基因": FeeBasis(ServiceUnit.SAMPLE, "按样本·基因计", "per sample and gene"),
    "反应": FeeBasis(ServiceUnit.SAMPLE, "按反应计", "per reaction"),
}
PROJECT_BASIS = FeeBasis(ServiceUnit.SAMPLE, "按项目计", "per project")
COST_RECOVERY_BASIS = FeeBasis(ServiceUnit.HOUR, "", "")

_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*(?:/\s*(\S+))?")

# Cost recovery (sharing-rules.md): depreciation over 5 years, maintenance at 6% of the original
# value a year, both spread over 800 rated hours, plus a 12% management fee.
DEPRECIATION_YEARS = 5
MAINTENANCE_SHARE = 0.06
RATED_HOURS = 800
MANAGEMENT_SHARE = 0.12

# Tier ratios against the internal price.
NONPROFIT_RATIO = (1.5, 1.8)
ENTERPRISE_RATIO = (2.5, 3.3)


@dataclass(frozen=True, slots=True)
class FeeRange:
    low_cny: float
    high_cny: float
    basis: FeeBasis
    qualifier: str

    def at(self, quantile: float) -> float:
        """The price at `quantile` of the range, spread log-uniformly like instrument values."""
        return float(self.low_cny * (self.high_cny / self.low_cny) ** quantile)


def parse_fee(text: str) -> tuple[FeeRange, ...]:
    """Every priced segment of a typical-fee cell; empty when it names no figure."""
    found: list[FeeRange] = []
    for segment in re.split(r"[；;]", text):
        match = _RANGE.search(segment)
        if match is None:
            continue
        low, high = float(match.group(1)), float(match.group(2))
        if not 0 < low <= high:
            continue
        basis_text = match.group(3) or ""
        basis = FEE_BASES.get(basis_text) if basis_text else PROJECT_BASIS
        if basis is None:
            basis = FeeBasis(ServiceUnit.SAMPLE, f"按{basis_text}计", "per unit")
        qualifier = segment[:match.start()].strip(" ~～")
        found.append(FeeRange(low / basis.hours, high / basis.hours, basis, qualifier))
    return tuple(found)


def cost_recovery_hourly_cny(original_value_cny: float) -> float:
    """Hourly cost-recovery price of an instrument worth `original_value_cny`."""
    yearly = original_value_cny / DEPRECIATION_YEARS + original_value_cny * MAINTENANCE_SHARE
    return yearly / RATED_HOURS * (1 + MANAGEMENT_SHARE)


def round_price_fen(yuan: float) -> int:
    """Prices as fee lists print them: whole tens above 1,000, fives above 100, and so on."""
    step_fen = (1000 if yuan >= 1000 else 500 if yuan >= 100 else 100 if yuan >= 10
                else 10 if yuan >= 1 else 1)
    return max(1, round(yuan * 100 / step_fen) * step_fen)


def tiered_prices(nonprofit_cny: float, rng: Random) -> tuple[int, int, int]:
    """(internal, non-profit, enterprise) fen, strictly increasing after rounding."""
    internal_cny = nonprofit_cny / rng.uniform(*NONPROFIT_RATIO)
    enterprise_cny = internal_cny * rng.uniform(*ENTERPRISE_RATIO)
    internal = round_price_fen(internal_cny)
    nonprofit = max(round_price_fen(nonprofit_cny), internal + 1)
    enterprise = max(round_price_fen(enterprise_cny), nonprofit + 1)
    return internal, nonprofit, enterprise
