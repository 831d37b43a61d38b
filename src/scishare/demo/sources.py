"""The demo's data files (``scishare/demo/data``), read into typed records and cross-checked.

The files carry everything the builder knows about the world: regions and districts, the
published figures it calibrates on, named organisations, real instrument models per technique,
name parts for extra organisations at large scales, people's names and the demo accounts.
The knowledge seed and the national classification come from ``scishare/data`` as elsewhere.

``instrument_models.csv`` columns: ``weight`` is how common the model is in a regional catalog
(relative); ``holders`` lists the organisation types that plausibly own one (U university,
I institute, E enterprise, T testing body, H hospital, O other); ``years`` is the span in which
it was sold; ``value_min_cny``/``value_max_cny`` bound its original value.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from scishare.accounts.models import OrganisationType, Role
from scishare.core.reference import read_csv, split_list

HOLDER_LETTERS: dict[str, OrganisationType] = {
    "U": OrganisationType.UNIVERSITY,
    "I": OrganisationType.INSTITUTE,
    "E": OrganisationType.ENTERPRISE,
    "T": OrganisationType.TESTING_BODY,
    "H": OrganisationType.HOSPITAL,
    "O": OrganisationType.OTHER,
}
# Purchase dates in the demo span the years Chinese regional platforms have existed.
FIRST_PURCHASE_YEAR = 2005
LAST_PURCHASE_YEAR = 2025


def _demo_rows(name: str) -> Iterator[dict[str, str]]:
    path = Path(str(resources.files("scishare.demo") / "data" / name))
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _optional_int(cell: str) -> int | None:
    return int(cell) if cell.strip() else None


@dataclass(frozen=True, slots=True)
class RegionSeed:
    code: str
    name_zh: str
    name_en: str
    parent_code: str | None
    latitude: float
    longitude: float
    exchange_prefix: str
    area_code: str
    local_digits: int
    cma_code: str

    @property
    def is_city(self) -> bool:
        """Cities hold organisations and instruments; provinces only group them."""
        return bool(self.exchange_prefix)


@dataclass(frozen=True, slots=True)
class DistrictSeed:
    region_code: str
    code: str
    name_zh: str
    short_zh: str
    name_en: str
    latitude: float
    longitude: float
    streets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CityTarget:
    """What a city's default build must hold; the Zhengzhou row carries published figures."""

    region_code: str
    instruments: int
    organisations: int | None
    university_instruments: int | None
    institute_instruments: int | None
    total_value_cny: int | None

    @property
    def is_calibrated(self) -> bool:
        return self.total_value_cny is not None


@dataclass(frozen=True, slots=True)
class OrganisationSeed:
    """A named organisation, or one generated from name parts at large scales."""

    code: str
    name_zh: str
    name_en: str
    org_type: OrganisationType
    region_code: str
    district: str
    size: float
    has_cma: bool
    has_cnas: bool
    focus: tuple[str, ...]

    @property
    def is_provider(self) -> bool:
        """Size 0 marks units that only hold demo accounts (bureau, platform, a demander)."""
        return self.size > 0


@dataclass(frozen=True, slots=True)
class InstrumentModel:
    technique_code: str
    name_zh: str
    name_en: str
    manufacturer: str
    model: str
    country: str
    class_code: str
    value_min_cny: int
    value_max_cny: int
    first_year: int
    last_year: int
    weight: float
    holders: frozenset[OrganisationType]
    extra_techniques: tuple[str, ...]
    key_specs: str

    def value_at(self, quantile: float) -> float:
        """Original value at `quantile` of a log-uniform spread: cheaper builds are commoner."""
        return float(self.value_min_cny * (self.value_max_cny / self.value_min_cny) ** quantile)


@dataclass(frozen=True, slots=True)
class TechniqueSeed:
    code: str
    name_zh: str
    name_en: str
    fee_text: str
    measures_zh: tuple[str, ...]
    sample_types: str
    notes: str


@dataclass(frozen=True, slots=True)
class AccountSeed:
    email: str
    display_name: str
    organisation_code: str
    role: Role
    region_code: str | None


@dataclass(frozen=True, slots=True)
class NamePart:
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class PersonName:
    zh: str
    pinyin: str
    weight: float


@dataclass(frozen=True)
class DemoSources:
    """Everything the builder reads, in file order (the order is part of determinism)."""

    regions: tuple[RegionSeed, ...]
    districts: tuple[DistrictSeed, ...]
    targets: tuple[CityTarget, ...]
    organisations: tuple[OrganisationSeed, ...]
    models: tuple[InstrumentModel, ...]
    techniques: tuple[TechniqueSeed, ...]
    accounts: tuple[AccountSeed, ...]
    name_parts: dict[str, tuple[NamePart, ...]]
    surnames: tuple[PersonName, ...]
    given_names: tuple[PersonName, ...]

    @classmethod
    def load(cls) -> DemoSources:
        return _load_sources()

    def region(self, code: str) -> RegionSeed:
        return next(region for region in self.regions if region.code == code)

    def districts_of(self, region_code: str) -> tuple[DistrictSeed, ...]:
        return tuple(d for d in self.districts if d.region_code == region_code)

    def problems(self, *, class_codes: frozenset[str],
                 technique_codes: frozenset[str]) -> list[str]:
        """Inconsistencies between the data files and the platform's reference data."""
        found: list[str] = []
        seeded = {technique.code for technique in self.techniques}
        if seeded != technique_codes:
            found.append(f"knowledge seed and platform techniques differ: "
                         f"{sorted(seeded ^ technique_codes)}")
        offered = {model.technique_code for model in self.models}
        found += [f"technique {code} has no instrument model" for code in sorted(seeded - offered)]
        for model in self.models:
            where = f"model {model.manufacturer} {model.model} ({model.technique_code})"
            if model.technique_code not in seeded:
                found.append(f"{where}: unknown technique")
            if model.class_code not in class_codes:
                found.append(f"{where}: unknown medium class {model.class_code}")
            found += [f"{where}: unknown extra technique {code}"
                      for code in model.extra_techniques if code not in seeded]
            if not 0 < model.value_min_cny <= model.value_max_cny:
                found.append(f"{where}: bad value range")
            if not model.holders:
                found.append(f"{where}: no holder types")
        districts = {(d.region_code, d.short_zh) for d in self.districts}
        codes = [organisation.code for organisation in self.organisations]
        found += [f"organisation code {code} listed twice"
                  for code in sorted({c for c in codes if codes.count(c) > 1})]
        for organisation in self.organisations:
            if (organisation.region_code, organisation.district) not in districts:
                found.append(f"organisation {organisation.code}: unknown district "
                             f"{organisation.district}")
        cities = {region.code for region in self.regions if region.is_city}
        targets = {target.region_code: target for target in self.targets}
        if set(targets) != cities:
            found.append("every city needs one calibration row")
        for target in self.targets:
            providers = sum(1 for o in self.organisations
                            if o.region_code == target.region_code and o.is_provider)
            if target.organisations is not None and target.organisations != providers:
                found.append(f"region {target.region_code}: {providers} providers listed, "
                             f"{target.organisations} published")
        known_codes = set(codes)
        found += [f"account {account.email}: unknown organisation {account.organisation_code}"
                  for account in self.accounts if account.organisation_code not in known_codes]
        return found


def _model(row: dict[str, str]) -> InstrumentModel:
    first, _, last = row["years"].partition("-")
    return InstrumentModel(
        technique_code=row["technique_code"], name_zh=row["name_zh"], name_en=row["name_en"],
        manufacturer=row["manufacturer"], model=row["model"], country=row["country"],
        class_code=row["class_code"], value_min_cny=int(row["value_min_cny"]),
        value_max_cny=int(row["value_max_cny"]),
        first_year=max(FIRST_PURCHASE_YEAR, int(first or FIRST_PURCHASE_YEAR)),
        last_year=min(LAST_PURCHASE_YEAR, int(last or LAST_PURCHASE_YEAR)),
        weight=float(row["weight"]),
        holders=frozenset(HOLDER_LETTERS[letter] for letter in row["holders"]),
        extra_techniques=tuple(split_list(row["extra_techniques"])),
        key_specs=row["key_specs"],
    )


def _organisation(row: dict[str, str]) -> OrganisationSeed:
    accreditation = set(split_list(row["accreditation"]))
    return OrganisationSeed(
        code=row["code"], name_zh=row["name_zh"], name_en=row["name_en"],
        org_type=OrganisationType(row["org_type"]), region_code=row["region_code"],
        district=row["district"], size=float(row["size"]), has_cma="cma" in accreditation,
        has_cnas="cnas" in accreditation, focus=tuple(split_list(row["focus"])),
    )


def _technique(row: dict[str, str], properties: dict[str, str]) -> TechniqueSeed:
    return TechniqueSeed(
        code=row["code"], name_zh=row["name_zh"], name_en=row["name_en"],
        fee_text=row["typical_fee_cny"],
        measures_zh=tuple(properties[code] for code in split_list(row["measures"])
                          if code in properties),
        sample_types=row["sample_types"].strip(), notes=row["notes"].strip(),
    )


@cache
def _load_sources() -> DemoSources:
    properties = {row["code"]: row["name_zh"] for row in read_csv("knowledge", "properties.csv")}
    parts: dict[str, list[NamePart]] = {}
    for row in _demo_rows("name_parts.csv"):
        parts.setdefault(row["kind"], []).append(NamePart(zh=row["zh"], en=row["en"]))
    people = list(_demo_rows("person_names.csv"))
    return DemoSources(
        regions=tuple(RegionSeed(
            code=row["code"], name_zh=row["name_zh"], name_en=row["name_en"],
            parent_code=row["parent_code"] or None, latitude=float(row["latitude"]),
            longitude=float(row["longitude"]), exchange_prefix=row["exchange_prefix"],
            area_code=row["area_code"], local_digits=int(row["local_digits"] or 0),
            cma_code=row["cma_code"]) for row in _demo_rows("regions.csv")),
        districts=tuple(DistrictSeed(
            region_code=row["region_code"], code=row["code"], name_zh=row["name_zh"],
            short_zh=row["short_zh"], name_en=row["name_en"], latitude=float(row["latitude"]),
            longitude=float(row["longitude"]), streets=tuple(split_list(row["streets"])))
            for row in _demo_rows("districts.csv")),
        targets=tuple(CityTarget(
            region_code=row["region_code"], instruments=int(row["instruments"]),
            organisations=_optional_int(row["organisations"]),
            university_instruments=_optional_int(row["university_instruments"]),
            institute_instruments=_optional_int(row["institute_instruments"]),
            total_value_cny=_optional_int(row["total_value_cny"]))
            for row in _demo_rows("calibration.csv")),
        organisations=tuple(_organisation(row) for row in _demo_rows("organisations.csv")),
        models=tuple(_model(row) for row in _demo_rows("instrument_models.csv")),
        techniques=tuple(_technique(row, properties)
                         for row in read_csv("knowledge", "techniques.csv")),
        accounts=tuple(AccountSeed(
            email=row["email"], display_name=row["display_name"],
            organisation_code=row["organisation_code"], role=Role(row["role"]),
            region_code=row["region_code"] or None) for row in _demo_rows("accounts.csv")),
        name_parts={kind: tuple(items) for kind, items in parts.items()},
        surnames=tuple(PersonName(zh=row["zh"], pinyin=row["pinyin"], weight=float(row["weight"]))
                       for row in people if row["kind"] == "surname"),
        given_names=tuple(PersonName(zh=row["zh"], pinyin=row["pinyin"],
                                     weight=float(row["weight"]))
                          for row in people if row["kind"] == "given"),
    )
