"""The deterministic demo region: Zhengzhou calibrated on its published figures, plus three
smaller cities (Luoyang, Xinxiang, Jinan) for cross-region work.

Everything random comes from `random.Random` instances seeded with strings derived from the
build seed (string seeds are hashed with SHA-512, so runs agree across processes), iterated in
file order; the clock is fixed. The same seed and scale therefore give the same records.

Instruments are generated and inserted per batch, never held as a whole list, so a catalog of a
million instruments runs in bounded memory. Zhengzhou is walked twice with the same planning
stream: the first pass only sums the original values drawn from the models' ranges, so that the
second can scale them to the published total (CNY 4 bn for 5,033 instruments, the same mean per
instrument at other scales); the other cities share that price level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate, islice
from random import Random

from sqlalchemy.orm import Session

from scishare.accounts.models import OrganisationType
from scishare.accounts.permissions import Action, Target
from scishare.accounts.schemas import AccountCreate, OrganisationCreate
from scishare.accounts.service import (
    SYSTEM,
    authorize,
    find_account_by_email,
    list_organisations,
    register_account,
    register_organisation,
)
from scishare.catalog.errors import DuplicateInstrument
from scishare.catalog.models import LifecycleState, ServiceUnit
from scishare.catalog.schemas import InstrumentCreate, ServiceItemCreate
from scishare.catalog.service import (
    ReferenceSets,
    catalog_stats,
    existing_exchange_ids,
    refresh_statistics,
    register_instruments_in_bulk,
    sync_reference_data,
)
from scishare.core.errors import Conflict, InvalidInput
from scishare.demo.fees import (
    COST_RECOVERY_BASIS,
    FeeRange,
    cost_recovery_hourly_cny,
    parse_fee,
    tiered_prices,
)
from scishare.demo.identifiers import (
    cma_number,
    cnas_number,
    code_body,
    credit_code,
    registration_category,
)
from scishare.demo.sources import (
    HOLDER_LETTERS,
    CityTarget,
    DemoSources,
    DistrictSeed,
    InstrumentModel,
    NamePart,
    OrganisationSeed,
    RegionSeed,
    TechniqueSeed,
)
from scishare.demo.vouchers import build_vouchers
from scishare.regions.schemas import RegionCreate
from scishare.regions.service import register_region

# 2015: the year Zhengzhou made instrument sharing law.
DEFAULT_SEED = 2015
# A fixed clock: records carry it as created_at, so it must not vary between runs.
DEMO_NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
DEMO_PASSWORD = "scishare-demo"
ADMIN_EMAIL = "admin@demo.scishare.cn"
BATCH_SIZE = 5_000
# The floor: every technique of the knowledge seed offered by three Zhengzhou
# instruments, so that matching always has something to rank.
MIN_OFFERS_PER_TECHNIQUE = 3
# An organisation's specialities (its `focus` column) are this much commoner in its holdings.
FOCUS_BOOST = 6.0

ProgressCallback = Callable[[str, int, int], None]

_TYPE_LETTER = {org_type: letter for letter, org_type in HOLDER_LETTERS.items()}
# How names of extra organisations are put together at large scales (name_parts.csv kinds).
_NAME_PATTERNS: dict[OrganisationType, tuple[tuple[str, ...], ...]] = {
    OrganisationType.UNIVERSITY: (("uni_field", "uni_suffix"), ("brand", "uni_suffix")),
    OrganisationType.INSTITUTE: (("inst_field", "inst_suffix"),
                                 ("brand", "inst_field", "inst_suffix")),
    OrganisationType.ENTERPRISE: (("brand", "industry", "ent_form"),),
    OrganisationType.TESTING_BODY: (("brand", "test_field", "test_form"),),
    OrganisationType.HOSPITAL: (("hosp_kind",), ("brand", "hosp_kind")),
    OrganisationType.OTHER: (("other_field", "other_form"),
                             ("brand", "other_field", "other_form")),
}
# Older instruments are more often idle, offered for transfer or retired. Weights follow the
# order of LifecycleState: in service, under maintenance, idle, offered for transfer, retired.
_LIFECYCLE_WEIGHTS: tuple[tuple[int, tuple[int, ...]], ...] = tuple(
    (before, tuple(accumulate(weights))) for before, weights in (
        (2010, (72, 4, 8, 6, 10)),
        (2018, (86, 4, 5, 3, 2)),
        (10_000, (93, 3, 3, 1, 0)),
    ))
_LIFECYCLE_STATES = tuple(LifecycleState)
# How many of its model's extra techniques an instrument also offers: none, one or two.
_EXTRA_COUNTS = (0, 1, 2)
_EXTRA_COUNT_WEIGHTS = tuple(accumulate((55, 30, 15)))
# Share of instruments opened to outside users: publicly funded owners must open theirs;
# enterprises and hospitals keep more in-house.
_OPEN_EXTERNAL_SHARE = {
    OrganisationType.UNIVERSITY: 0.92, OrganisationType.INSTITUTE: 0.90,
    OrganisationType.ENTERPRISE: 0.75, OrganisationType.TESTING_BODY: 0.97,
    OrganisationType.HOSPITAL: 0.70, OrganisationType.OTHER: 0.85,
}
# Chinese mobile prefixes (China Mobile, Unicom, Telecom) for contacts who give a mobile.
_MOBILE_PREFIXES = ("134", "135", "136", "137", "138", "139", "150", "151", "152", "157",
                    "158", "159", "182", "183", "187", "188", "130", "131", "132", "155",
                    "156", "185", "186", "133", "153", "180", "181", "189", "199")
# Words that already end a service name; others get 测试 ("test") appended.
_SERVICE_WORDS = ("测试", "试验", "测量", "分析", "检测", "计算", "加工", "校准", "测定", "成像",
                  "测序", "制造", "调查", "勘探", "遥感", "曝光", "表征")
_SPECIFICATIONS_MAX = 500
_FUNCTIONS_MAX = 300


class DemoAlreadyBuilt(Conflict):
    """The database already holds the demo; building it again would clash."""


class DatabaseNotEmpty(Conflict):
    """The database holds other data; the demo is never mixed into it."""


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    instruments_by_region: dict[str, int]
    organisations: int
    total_value_fen: int
    accounts: tuple[str, ...]

    @property
    def instruments(self) -> int:
        return sum(self.instruments_by_region.values())


@dataclass(frozen=True, slots=True)
class _Contact:
    name: str
    phone: str
    email: str


@dataclass(slots=True)
class _Unit:
    """An organisation of the build: its seed, where it sits, and what it will hold."""

    seed: OrganisationSeed
    district: DistrictSeed
    latitude: float
    longitude: float
    address: str
    cma_number: str | None = None
    cnas_number: str | None = None
    organisation_id: int = 0
    count: int = 0
    forced: list[str] = field(default_factory=list)
    buildings: tuple[str, ...] = ()
    contacts: tuple[_Contact, ...] = ()


@dataclass
class _City:
    region: RegionSeed
    province: RegionSeed
    target: CityTarget
    count: int
    units: list[_Unit]

    @property
    def providers(self) -> list[_Unit]:
        return [unit for unit in self.units if unit.seed.is_provider]


def apportion(total: int, weights: Sequence[float], *, minimum: int = 0) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder, ties to the earlier one).

    Each share gets at least `minimum` when the total allows it for all.
    """
    if not weights:
        return []
    base = minimum if minimum and total >= minimum * len(weights) else 0
    rest = total - base * len(weights)
    weight_sum = sum(weights)
    if weight_sum <= 0:
        raise ValueError("cannot apportion over zero weights")
    quotas = [weight / weight_sum * rest for weight in weights]
    shares = [math.floor(quota) for quota in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for index in by_remainder[:rest - sum(shares)]:
        shares[index] += 1
    return [base + share for share in shares]


def city_counts(sources: DemoSources, scale: int | None) -> dict[str, int]:
    """Instruments per city: the calibrated defaults, or `scale` spread in their proportions."""
    defaults = {target.region_code: target.instruments for target in sources.targets}
    if scale is None:
        return defaults
    if scale < 1:
        raise InvalidInput("the scale is a number of instruments, at least 1",
                           record="demo build", field="scale")
    return dict(zip(defaults, apportion(scale, list(defaults.values())), strict=True))


def demo_present(session: Session) -> bool:
    """Whether the demo's platform admin exists, i.e. the demo has been built here."""
    return find_account_by_email(session, ADMIN_EMAIL) is not None


def build_demo(session: Session, *, seed: int = DEFAULT_SEED, scale: int | None = None,
               now: datetime = DEMO_NOW, batch_size: int = BATCH_SIZE,
               on_progress: ProgressCallback | None = None) -> DemoSummary:
    """Build the demo into an empty database, in the caller's transaction.

    Refuses a database that already holds the demo (DemoAlreadyBuilt) or anything else
    (DatabaseNotEmpty), so the demo is never half-built or mixed into real data.
    """
    if demo_present(session):
        raise DemoAlreadyBuilt(
            f"the database already holds the demo "
            f"({catalog_stats(session).instruments:,} instruments)", record="demo build")
    if catalog_stats(session).instruments or list_organisations(session):
        raise DatabaseNotEmpty("the database already holds organisations or instruments; "
                               "build the demo into an empty database", record="demo build")
    report = on_progress or (lambda _phase, _done, _total: None)
    sync_reference_data(session)
    sources = DemoSources.load()
    for region in sources.regions:
        register_region(session, RegionCreate(
            code=region.code, name_zh=region.name_zh, name_en=region.name_en,
            parent_code=region.parent_code, latitude=region.latitude,
            longitude=region.longitude))
    references = ReferenceSets.load(session)
    problems = sources.problems(class_codes=references.class_codes,
                                technique_codes=references.technique_codes)
    if problems:
        raise ValueError("demo data files are inconsistent: " + "; ".join(problems))

    counts = city_counts(sources, scale)
    tables = _ModelTables(sources.models)
    cities = [_plan_city(sources, tables, target, counts[target.region_code],
                         Random(f"{seed}/{target.region_code}/organisations"))
              for target in sources.targets]
    _register_organisations(session, cities, now=now, report=report)
    accounts = _register_accounts(session, sources, cities, now=now)
    build_vouchers(session, now=now)

    total = sum(city.count for city in cities)
    writer = _InstrumentWriter(sources)
    done = 0
    value_fen = 0
    # The calibrated city (Zhengzhou) fixes the price level; the other cities share it, so
    # that the same model costs about the same everywhere.
    calibrated = next(city for city in cities if city.target.is_calibrated)
    factor = _value_factor(calibrated, tables, seed)
    for city in cities:
        records = writer.records(city, tables, seed, factor)
        while batch := list(islice(records, batch_size)):
            _insert_batch(session, batch, references, now=now)
            value_fen += sum(record.original_value_fen for record in batch)
            done += len(batch)
            report("instruments", done, total)
    refresh_statistics(session)
    return DemoSummary(
        seed=seed, instruments_by_region={city.region.code: city.count for city in cities},
        organisations=sum(len(city.units) for city in cities), total_value_fen=value_fen,
        accounts=accounts)


# Planning cities and their organisations ----------------------------------------------------

class _ModelTables:
    """Cumulative weights of the models an organisation draws from, built once per key."""

    def __init__(self, models: Sequence[InstrumentModel]) -> None:
        self.models = tuple(models)
        by_technique: dict[str, list[InstrumentModel]] = {}
        for model in self.models:
            by_technique.setdefault(model.technique_code, []).append(model)
        self._by_technique = {code: tuple(found) for code, found in by_technique.items()}
        self._tables: dict[object, tuple[tuple[InstrumentModel, ...], tuple[float, ...]]] = {}

    def holds(self, technique: str, org_type: OrganisationType) -> bool:
        """Whether organisations of this type plausibly own an instrument for `technique`."""
        return any(org_type in model.holders for model in self._by_technique[technique])

    def for_unit(self, seed: OrganisationSeed
                 ) -> tuple[tuple[InstrumentModel, ...], tuple[float, ...]]:
        key = (seed.org_type, seed.focus)
        if key not in self._tables:
            models = tuple(m for m in self.models if seed.org_type in m.holders)
            weights = [m.weight * (FOCUS_BOOST if _focused(m, seed.focus) else 1.0)
                       for m in models]
            self._tables[key] = (models, tuple(accumulate(weights)))
        return self._tables[key]

    def for_technique(self, technique: str, org_type: OrganisationType
                      ) -> tuple[tuple[InstrumentModel, ...], tuple[float, ...]]:
        key = (technique, org_type)
        if key not in self._tables:
            candidates = self._by_technique[technique]
            models = tuple(m for m in candidates if org_type in m.holders) or candidates
            self._tables[key] = (models, tuple(accumulate(m.weight for m in models)))
        return self._tables[key]


def _focused(model: InstrumentModel, focus: tuple[str, ...]) -> bool:
    return (model.technique_code in focus or model.class_code in focus
            or model.class_code[:2] in focus)


def _type_totals(target: CityTarget, count: int,
                 named: Sequence[OrganisationSeed]) -> dict[OrganisationType, int]:
    """Instruments per organisation type: published shares where known, else by size."""
    sizes = {org_type: sum(s.size for s in named if s.org_type is org_type)
             for org_type in OrganisationType}
    if target.university_instruments is None or target.institute_instruments is None:
        present = [org_type for org_type in OrganisationType if sizes[org_type] > 0]
        return dict(zip(present, apportion(count, [sizes[t] for t in present]), strict=True))
    universities, institutes, rest = apportion(count, [
        target.university_instruments, target.institute_instruments,
        target.instruments - target.university_instruments - target.institute_instruments])
    others = [t for t in OrganisationType if t not in (
        OrganisationType.UNIVERSITY, OrganisationType.INSTITUTE) and sizes[t] > 0]
    totals = {OrganisationType.UNIVERSITY: universities, OrganisationType.INSTITUTE: institutes}
    totals.update(zip(others, apportion(rest, [sizes[t] for t in others]), strict=True))
    return totals


def _plan_city(sources: DemoSources, tables: _ModelTables, target: CityTarget, count: int,
               rng: Random) -> _City:
    region = sources.region(target.region_code)
    province = sources.region(region.parent_code or region.code)
    districts = sources.districts_of(region.code)
    named = [s for s in sources.organisations if s.region_code == region.code]
    providers = [s for s in named if s.is_provider]
    totals = _type_totals(target, count, providers)
    # Larger catalogs get proportionally more organisations, so that a unit's holdings stay
    # near the published 35 instruments per unit instead of growing without bound.
    growth = count / target.instruments
    taken = {s.name_zh for s in sources.organisations}
    seeds: list[OrganisationSeed] = list(named)
    for org_type in OrganisationType:
        of_type = [s for s in providers if s.org_type is org_type]
        extra = round(len(of_type) * growth) - len(of_type)
        if of_type and extra > 0:
            seeds += _generated_organisations(sources, region, districts, org_type, extra,
                                              [s.size for s in of_type], taken, rng)
    units = [_locate(seed, region, province, districts, rng) for seed in seeds]
    for org_type, type_total in totals.items():
        members = [u for u in units if u.seed.is_provider and u.seed.org_type is org_type]
        shares = apportion(type_total, [u.seed.size for u in members], minimum=1)
        for unit, share in zip(members, shares, strict=True):
            unit.count = share
    city = _City(region=region, province=province, target=target, count=count, units=units)
    if target.is_calibrated:
        _force_techniques(city, sources, tables, rng)
    for unit in city.units:
        _staff(unit, sources, region, rng)
    return city


def _generated_organisations(sources: DemoSources, region: RegionSeed,
                             districts: Sequence[DistrictSeed], org_type: OrganisationType,
                             wanted: int, sizes: Sequence[float], taken: set[str],
                             rng: Random) -> list[OrganisationSeed]:
    """`wanted` extra organisations of a type, named from parts, sized like the named ones."""
    places: list[tuple[NamePart, DistrictSeed | None]] = [
        (NamePart(region.name_zh.removesuffix("市"), region.name_en), None)]
    places += [(NamePart(d.short_zh, d.name_en), d) for d in districts]
    patterns = [[sources.name_parts[kind] for kind in pattern]
                for pattern in _NAME_PATTERNS[org_type]]
    capacities = [len(places) * math.prod(len(parts) for parts in pattern)
                  for pattern in patterns]
    capacity = sum(capacities)

    def compose(index: int) -> tuple[str, str, DistrictSeed | None]:
        for pattern, pattern_capacity in zip(patterns, capacities, strict=True):
            if index >= pattern_capacity:
                index -= pattern_capacity
                continue
            chosen: list[NamePart] = []
            for parts in reversed(pattern):
                index, digit = divmod(index, len(parts))
                chosen.insert(0, parts[digit])
            place, district = places[index]
            return (place.zh + "".join(part.zh for part in chosen),
                    " ".join([place.en, *(part.en for part in chosen)]), district)
        raise IndexError(index)

    found: list[OrganisationSeed] = []
    # Sample positions without replacement so that names spread over all the parts; past the
    # parts' capacity (thousands per type and city) the names get a number.
    candidates = iter(rng.sample(range(capacity), min(capacity, wanted * 2 + 16)))
    serial = 0
    while len(found) < wanted:
        index = next(candidates, None)
        if index is None:
            serial += 1
            zh, en, district = compose(rng.randrange(capacity))
            zh, en = f"{zh}（{serial}）", f"{en} ({serial})"
        else:
            zh, en, district = compose(index)
        if zh in taken:
            continue
        taken.add(zh)
        found.append(OrganisationSeed(
            code=f"{region.exchange_prefix}{_TYPE_LETTER[org_type]}G{len(found) + 1:05d}",
            name_zh=zh, name_en=en, org_type=org_type, region_code=region.code,
            district=(district or rng.choice(list(districts))).short_zh,
            size=rng.choice(list(sizes)),
            has_cma=org_type is OrganisationType.TESTING_BODY or rng.random() < 0.1,
            has_cnas=rng.random() < (0.7 if org_type is OrganisationType.TESTING_BODY
                                     else 0.3 if org_type is OrganisationType.HOSPITAL
                                     else 0.1),
            focus=()))
    return found


def _locate(seed: OrganisationSeed, region: RegionSeed, province: RegionSeed,
            districts: Sequence[DistrictSeed], rng: Random) -> _Unit:
    district = next(d for d in districts if d.short_zh == seed.district)
    # Campuses sit within about 1.5 km of their district's centre.
    street = rng.choice(district.streets)
    unit = _Unit(seed=seed, district=district,
                 latitude=round(district.latitude + rng.uniform(-0.015, 0.015), 6),
                 longitude=round(district.longitude + rng.uniform(-0.015, 0.015), 6),
                 address=(f"{province.name_zh}{region.name_zh}{district.name_zh}{street}"
                          f"{rng.randint(1, 300)}号"))
    if seed.has_cma:
        unit.cma_number = cma_number(year=rng.randint(2010, 2025),
                                     province_cma_code=province.cma_code,
                                     serial=rng.randrange(10**8))
    if seed.has_cnas:
        unit.cnas_number = cnas_number(org_type=seed.org_type, serial=rng.randint(100, 9999))
    return unit


def _force_techniques(city: _City, sources: DemoSources, tables: _ModelTables,
                      rng: Random) -> None:
    """Give every technique its floor of main-technique instruments, at plausible holders."""
    per_technique = min(MIN_OFFERS_PER_TECHNIQUE, city.count // len(sources.techniques))
    providers = city.providers

    def weights(technique: str, *, spare_only: bool) -> list[float]:
        found = [(unit.count - len(unit.forced) if spare_only else unit.count)
                 * (FOCUS_BOOST if technique in unit.seed.focus else 1.0)
                 * tables.holds(technique, unit.seed.org_type) for unit in providers]
        if any(found):
            return found
        # No plausible holder has room left: any provider with room takes it.
        return [float(unit.count - len(unit.forced)) for unit in providers]

    for technique in sources.techniques:
        cumulative = list(accumulate(weights(technique.code, spare_only=False)))
        placed = 0
        while placed < per_technique:
            unit = rng.choices(providers, cum_weights=cumulative)[0]
            if len(unit.forced) < unit.count:
                unit.forced.append(technique.code)
                placed += 1
            else:
                # A full unit was drawn; draw again among those with room.
                cumulative = list(accumulate(weights(technique.code, spare_only=True)))


def _staff(unit: _Unit, sources: DemoSources, region: RegionSeed, rng: Random) -> None:
    """Buildings and a pool of operators who are the contacts for the unit's instruments."""
    buildings = sources.name_parts[f"building_{unit.seed.org_type.value}"]
    unit.buildings = tuple(part.zh for part in rng.sample(
        list(buildings), min(len(buildings), 1 + unit.count // 40)))
    surname_weights = list(accumulate(s.weight for s in sources.surnames))
    contacts: list[_Contact] = []
    mailboxes: set[str] = set()
    for _ in range(max(1, min(60, math.ceil(unit.count / 8)))):
        surname = rng.choices(sources.surnames, cum_weights=surname_weights)[0]
        given = rng.choice(sources.given_names)
        mailbox = f"{surname.pinyin}{given.pinyin}"
        while mailbox in mailboxes:
            mailbox += str(rng.randint(1, 9))
        mailboxes.add(mailbox)
        if rng.random() < 0.4:
            phone = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        else:
            # Local numbers of institutions start with 5, 6 or 8 in these cities.
            rest = rng.randrange(10 ** (region.local_digits - 1))
            phone = f"{region.area_code}-{rng.choice('568')}{rest:0{region.local_digits - 1}d}"
        contacts.append(_Contact(
            name=surname.zh + given.zh, phone=phone,
            email=f"{mailbox}@{unit.seed.code.lower()}.demo.scishare.cn"))
    unit.contacts = tuple(contacts)


# Registering organisations and accounts ----------------------------------------------------

def _register_organisations(session: Session, cities: Sequence[_City], *, now: datetime,
                            report: ProgressCallback) -> None:
    total = sum(len(city.units) for city in cities)
    credit_codes: set[str] = set()
    done = 0
    for city in cities:
        for unit in city.units:
            seed = unit.seed
            category = registration_category(org_type=seed.org_type, name_zh=seed.name_zh)
            attempt = 0
            code = credit_code(category=category, division_code=unit.district.code,
                               body=code_body(seed.code))
            while code in credit_codes:
                attempt += 1
                code = credit_code(category=category, division_code=unit.district.code,
                                   body=code_body(seed.code, attempt))
            credit_codes.add(code)
            organisation = register_organisation(session, OrganisationCreate(
                code=seed.code, name_zh=seed.name_zh, name_en=seed.name_en,
                org_type=seed.org_type, region_code=seed.region_code, credit_code=code,
                cma_number=unit.cma_number, cnas_number=unit.cnas_number), now=now)
            unit.organisation_id = organisation.id
            done += 1
            if done % 500 == 0 or done == total:
                report("organisations", done, total)


def _register_accounts(session: Session, sources: DemoSources, cities: Sequence[_City], *,
                       now: datetime) -> tuple[str, ...]:
    ids = {unit.seed.code: unit.organisation_id for city in cities for unit in city.units}
    for account in sources.accounts:
        register_account(session, AccountCreate(
            email=account.email, display_name=account.display_name, password=DEMO_PASSWORD,
            organisation_id=ids[account.organisation_code]), now=now, roles=(account.role,),
            region_code=account.region_code)
    return tuple(account.email for account in sources.accounts)


# Instruments --------------------------------------------------------------------------------

def _plan(city: _City, tables: _ModelTables, rng: Random
          ) -> Iterator[tuple[_Unit, InstrumentModel, float]]:
    """Each instrument's owner, model and value quantile, in a fixed order."""
    for unit in city.providers:
        models, cumulative = tables.for_unit(unit.seed)
        for index in range(unit.count):
            if index < len(unit.forced):
                forced_models, forced_cumulative = tables.for_technique(
                    unit.forced[index], unit.seed.org_type)
                model = rng.choices(forced_models, cum_weights=forced_cumulative)[0]
            else:
                model = rng.choices(models, cum_weights=cumulative)[0]
            yield unit, model, rng.random()


def _plan_rng(seed: int, city: _City) -> Random:
    return Random(f"{seed}/{city.region.code}/plan")


def _value_factor(city: _City, tables: _ModelTables, seed: int) -> float:
    """What scales a calibrated city's drawn values to its published total."""
    target = city.target
    if target.total_value_cny is None:
        raise ValueError(f"region {city.region.code} has no published total value")
    wanted = target.total_value_cny / target.instruments * city.count
    drawn = sum(model.value_at(q) for _, model, q in _plan(city, tables, _plan_rng(seed, city)))
    return wanted / drawn if drawn else 1.0


def _insert_batch(session: Session, batch: list[InstrumentCreate], references: ReferenceSets,
                  *, now: datetime) -> None:
    for record in batch:
        for field_name, reason in references.problems(record):
            raise InvalidInput(reason, record=f"instrument {record.exchange_id}",
                               field=field_name)
    clashes = existing_exchange_ids(session, [record.exchange_id for record in batch])
    if clashes:
        raise DuplicateInstrument(f"exchange ids already listed: {sorted(clashes)[:5]}",
                                  record="demo build", field="exchange_id")
    register_instruments_in_bulk(session, batch, now=now)


class _InstrumentWriter:
    """Turns planned instruments into full, checked `InstrumentCreate` records."""

    def __init__(self, sources: DemoSources) -> None:
        self.techniques = {technique.code: technique for technique in sources.techniques}
        self.fees = {technique.code: parse_fee(technique.fee_text)
                     for technique in sources.techniques}

    def records(self, city: _City, tables: _ModelTables, seed: int,
                value_factor: float) -> Iterator[InstrumentCreate]:
        rng = Random(f"{seed}/{city.region.code}/details")
        authorised: set[int] = set()
        for serial, (unit, model, quantile) in enumerate(
                _plan(city, tables, _plan_rng(seed, city)), start=1):
            if unit.organisation_id not in authorised:
                authorize(SYSTEM, Action.REGISTER_INSTRUMENT,
                          Target(organisation_id=unit.organisation_id,
                                 region_code=city.region.code),
                          record=f"organisation {unit.seed.code}")
                authorised.add(unit.organisation_id)
            # Values are kept to the hundred yuan, as the national form records 10k CNY with
            # two decimals.
            value_fen = max(1, round(model.value_at(quantile) * value_factor / 100)) * 10_000
            yield self._instrument(city, unit, model, quantile, value_fen, serial, rng)

    def _instrument(self, city: _City, unit: _Unit, model: InstrumentModel, quantile: float,
                    value_fen: int, serial: int, rng: Random) -> InstrumentCreate:
        main = self.techniques[model.technique_code]
        extra_count = min(len(model.extra_techniques),
                          rng.choices(_EXTRA_COUNTS, cum_weights=_EXTRA_COUNT_WEIGHTS)[0])
        extras = [self.techniques[code] for code in rng.sample(model.extra_techniques,
                                                               extra_count)]
        first_day = date(model.first_year, 1, 1)
        purchased_on = first_day + timedelta(days=rng.randrange(
            (date(model.last_year, 12, 31) - first_day).days + 1))
        weights = next(w for before, w in _LIFECYCLE_WEIGHTS if purchased_on.year < before)
        state = rng.choices(_LIFECYCLE_STATES, cum_weights=weights)[0]
        is_open = (state is not LifecycleState.RETIRED
                   and rng.random() < _OPEN_EXTERNAL_SHARE[unit.seed.org_type])
        accredited = 0.9 if unit.seed.org_type is OrganisationType.TESTING_BODY else 0.4
        contact = rng.choice(unit.contacts)
        building = rng.choice(unit.buildings)
        block = rng.choice("ABC") if rng.random() < 0.3 else ""
        room = f"{block}{rng.randint(1, 6)}{rng.randint(1, 30):02d}"
        return InstrumentCreate(
            exchange_id=f"{city.region.exchange_prefix}-{serial:07d}",
            organisation_id=unit.organisation_id,
            name_zh=model.name_zh, name_en=model.name_en, model=model.model,
            manufacturer=model.manufacturer, country_of_origin=model.country,
            class_code=model.class_code,
            technique_codes=[main.code, *(technique.code for technique in extras)],
            specifications=_clip(f"{model.key_specs}。", _SPECIFICATIONS_MAX),
            functions=_functions(main, extras),
            original_value_fen=value_fen, purchased_on=purchased_on,
            region_code=city.region.code, address=f"{unit.address}{building}{room}室",
            latitude=round(unit.latitude + rng.uniform(-0.002, 0.002), 6),
            longitude=round(unit.longitude + rng.uniform(-0.002, 0.002), 6),
            lifecycle_state=state, is_open_external=is_open,
            has_cma=unit.cma_number is not None and rng.random() < accredited,
            has_cnas=unit.cnas_number is not None and rng.random() < accredited,
            contact_name=contact.name, contact_phone=contact.phone, contact_email=contact.email,
            service_items=self._service_items(main, extras, quantile, value_fen, rng),
        )

    def _service_items(self, main: TechniqueSeed, extras: Sequence[TechniqueSeed],
                       quantile: float, value_fen: int, rng: Random) -> list[ServiceItemCreate]:
        """One to three priced items: the main technique's, then the extras', or a variant."""
        offers: list[tuple[TechniqueSeed, FeeRange | None, bool]] = []
        main_fees = self.fees[main.code]
        offers += [(main, fee, len(main_fees) > 1) for fee in main_fees] or [(main, None, False)]
        for technique in extras:
            offers.append((technique, (self.fees[technique.code] or (None,))[0], False))
        items: list[ServiceItemCreate] = []
        for technique, fee, qualified in offers[:3]:
            # Dearer builds of a model charge more, so the price follows the value quantile.
            position = 0.6 * quantile + 0.4 * rng.random()
            nonprofit = (fee.at(position) if fee is not None
                         else cost_recovery_hourly_cny(value_fen / 100))
            name = _ItemName.of(technique, fee, qualified=qualified)
            items.append(_priced(name.zh(), name.en(), name.unit, nonprofit, rng))
            if len(items) == 1 and len(offers) == 1 and rng.random() < 0.4:
                # A single-service instrument often lists an express or a self-operated tier.
                if name.unit is ServiceUnit.SAMPLE:
                    items.append(_priced(name.zh("加急"), name.en("express"), name.unit,
                                         nonprofit * rng.uniform(1.5, 2.0), rng))
                else:
                    items.append(_priced(name.zh("培训后自主上机"),
                                         name.en("self-operated after training"), name.unit,
                                         nonprofit * rng.uniform(0.55, 0.75), rng))
        return items


@dataclass(frozen=True, slots=True)
class _ItemName:
    """A service item's name: what is done, and what the price is per."""

    base_zh: str
    base_en: str
    basis_zh: str
    basis_en: str
    unit: ServiceUnit

    @classmethod
    def of(cls, technique: TechniqueSeed, fee: FeeRange | None, *,
           qualified: bool) -> _ItemName:
        basis = fee.basis if fee is not None else COST_RECOVERY_BASIS
        qualifier = fee.qualifier if qualified and fee is not None else ""
        base_zh = f"{technique.name_zh} {qualifier}" if qualifier else technique.name_zh
        base_en = f"{technique.name_en} {qualifier}" if qualifier else technique.name_en
        if basis.label_zh:
            return cls(base_zh, base_en, basis.label_zh, basis.label_en, basis.unit)
        if basis.unit is ServiceUnit.HOUR:
            return cls(f"{base_zh}机时", base_en, "", "machine time", basis.unit)
        suffix = "" if technique.name_zh.endswith(_SERVICE_WORDS) else "测试"
        return cls(f"{base_zh}{suffix}", base_en, "", "per sample", basis.unit)

    def zh(self, variant: str = "") -> str:
        notes = "，".join(note for note in (variant, self.basis_zh) if note)
        return f"{self.base_zh}（{notes}）" if notes else self.base_zh

    def en(self, variant: str = "") -> str:
        notes = ", ".join(note for note in (variant, self.basis_en) if note)
        return f"{self.base_en} ({notes})" if notes else self.base_en


def _priced(name_zh: str, name_en: str, unit: ServiceUnit, nonprofit_cny: float,
            rng: Random) -> ServiceItemCreate:
    internal, nonprofit, enterprise = tiered_prices(nonprofit_cny, rng)
    return ServiceItemCreate(name_zh=name_zh, name_en=name_en, unit=unit,
                             price_internal_fen=internal, price_nonprofit_fen=nonprofit,
                             price_enterprise_fen=enterprise)


def _functions(main: TechniqueSeed, extras: Sequence[TechniqueSeed]) -> str:
    """The national form's 主要功能 (≤ 300 characters), from the knowledge seed."""
    sentences = [f"{main.name_zh}：可测{'、'.join(main.measures_zh[:4])}。" if main.measures_zh
                 else f"{main.name_zh}。"]
    if main.sample_types:
        sentences.append(f"适用样品：{main.sample_types}。")
    if extras:
        sentences.append(f"兼做{'、'.join(technique.name_zh for technique in extras)}。")
    if main.notes:
        sentences.append(f"{main.notes.rstrip('。')}。")
    text = ""
    for sentence in sentences:
        if len(text) + len(sentence) <= _FUNCTIONS_MAX:
            text += sentence
    return text


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
