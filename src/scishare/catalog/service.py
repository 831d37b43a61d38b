"""Listing, editing and browsing instruments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, exists, func, insert, or_, select, text
from sqlalchemy.orm import Session, selectinload

from scishare.accounts.models import Organisation
from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize, get_organisation
from scishare.catalog.errors import (
    BadLifecycleMove,
    DuplicateInstrument,
    UnknownClassCode,
    UnknownTechnique,
)
from scishare.catalog.models import (
    Instrument,
    InstrumentTechnique,
    LifecycleChange,
    LifecycleState,
    NationalClass,
    ServiceItem,
    Technique,
    TechniqueClass,
)
from scishare.catalog.schemas import (
    CatalogStats,
    InstrumentCreate,
    InstrumentFields,
    InstrumentFilter,
    InstrumentPage,
    InstrumentRead,
    InstrumentSummary,
    InstrumentUpdate,
    ServiceItemCreate,
)
from scishare.core.database import is_postgres
from scishare.core.errors import InvalidInput, NotFound
from scishare.core.reference import read_csv, split_list
from scishare.regions.models import Region
from scishare.regions.service import region_and_descendants

# Reference data ----------------------------------------------------------------------------

def sync_reference_data(session: Session) -> tuple[int, int]:
    """Load the national classification and technique vocabulary shipped in the package.

    Idempotent: rows are added or renamed, never removed, so instruments keep their codes.
    Returns the number of classes and techniques now known.
    """
    classes = {c.code: c for c in session.scalars(select(NationalClass))}
    for row in read_csv("instrument_classes.csv"):
        known = classes.get(row["code"])
        values = {"level": int(row["level"]), "parent_code": row["parent_code"] or None,
                  "name_zh": row["name_zh"], "name_en": row["name_en"],
                  "aliases": row["aliases"]}
        if known is None:
            session.add(NationalClass(code=row["code"], **values))
            session.flush()
        else:
            for key, value in values.items():
                setattr(known, key, value)
    techniques = {t.code: t for t in session.scalars(select(Technique))}
    links = set(session.execute(select(TechniqueClass.technique_code,
                                       TechniqueClass.class_code)).all())
    for row in read_csv("knowledge", "techniques.csv"):
        known_technique = techniques.get(row["code"])
        if known_technique is None:
            session.add(Technique(code=row["code"], name_zh=row["name_zh"],
                                  name_en=row["name_en"]))
        else:
            known_technique.name_zh, known_technique.name_en = row["name_zh"], row["name_en"]
        for class_code in split_list(row["class_codes"]):
            if (row["code"], class_code) not in links:
                session.add(TechniqueClass(technique_code=row["code"], class_code=class_code))
    session.flush()
    return (session.scalar(select(func.count()).select_from(NationalClass)) or 0,
            session.scalar(select(func.count()).select_from(Technique)) or 0)


@dataclass(frozen=True)
class ReferenceSets:
    """The codes an instrument record may use, loaded once per import or request."""

    class_codes: frozenset[str]
    technique_codes: frozenset[str]
    region_codes: frozenset[str]

    @classmethod
    def load(cls, session: Session) -> ReferenceSets:
        return cls(
            class_codes=frozenset(session.scalars(
                select(NationalClass.code).where(NationalClass.level == 2))),
            technique_codes=frozenset(session.scalars(select(Technique.code))),
            region_codes=frozenset(session.scalars(select(Region.code))),
        )

    def problems(self, fields: InstrumentFields | InstrumentUpdate) -> list[tuple[str, str]]:
        """(field, reason) for each code in `fields` that the platform does not know."""
        found: list[tuple[str, str]] = []
        if fields.class_code is not None and fields.class_code not in self.class_codes:
            found.append(("class_code", f"unknown national class code {fields.class_code}"))
        for code in fields.technique_codes or []:
            if code not in self.technique_codes:
                found.append(("technique_codes", f"unknown technique code {code}"))
        if fields.region_code is not None and fields.region_code not in self.region_codes:
            found.append(("region_code", f"unknown region code {fields.region_code}"))
        if len(set(fields.technique_codes or [])) != len(fields.technique_codes or []):
            found.append(("technique_codes", "a technique is listed twice"))
        return found


def _raise_reference_problems(problems: list[tuple[str, str]], *, record: str) -> None:
    for field, reason in problems:
        error = {"class_code": UnknownClassCode,
                 "technique_codes": UnknownTechnique}.get(field, InvalidInput)
        raise error(reason, record=record, field=field)


def list_classes(session: Session) -> list[NationalClass]:
    return list(session.scalars(select(NationalClass).order_by(NationalClass.code)))


def list_techniques(session: Session) -> list[Technique]:
    return list(session.scalars(select(Technique).order_by(Technique.code)))


# Registering and editing -------------------------------------------------------------------

def _service_items(items: list[ServiceItemCreate]) -> list[ServiceItem]:
    return [ServiceItem(position=i, **item.model_dump()) for i, item in enumerate(items)]


def _target(session: Session, organisation_id: int) -> Target:
    organisation = get_organisation(session, organisation_id)
    return Target(organisation_id=organisation.id, region_code=organisation.region_code)


def register_instrument(session: Session, data: InstrumentCreate, *, actor: Actor,
                        now: datetime, references: ReferenceSets | None = None) -> Instrument:
    """List a new instrument for an organisation the actor may register instruments for."""
    record = f"instrument {data.exchange_id}"
    authorize(actor, Action.REGISTER_INSTRUMENT, _target(session, data.organisation_id),
              record=record)
    _raise_reference_problems((references or ReferenceSets.load(session)).problems(data),
                              record=record)
    if session.scalar(select(Instrument.id).where(
            Instrument.exchange_id == data.exchange_id)) is not None:
        raise DuplicateInstrument("exchange id already listed", record=record,
                                  field="exchange_id")
    values = data.model_dump(exclude={"technique_codes", "service_items"})
    instrument = Instrument(**values, created_at=now, updated_at=now)
    instrument.techniques = [InstrumentTechnique(technique_code=code, position=i)
                             for i, code in enumerate(data.technique_codes)]
    instrument.service_items = _service_items(data.service_items)
    session.add(instrument)
    session.flush()
    session.add(LifecycleChange(instrument_id=instrument.id, from_state=None,
                                to_state=data.lifecycle_state, changed_at=now,
                                changed_by_id=actor.account_id or None, reason="registered"))
    session.flush()
    return instrument


def update_instrument(session: Session, instrument: Instrument, data: InstrumentUpdate, *,
                      actor: Actor, now: datetime) -> Instrument:
    """Edit an instrument of the actor's own organisation (or any, for a platform admin)."""
    record = f"instrument {instrument.exchange_id}"
    authorize(actor, Action.EDIT_INSTRUMENT, _target(session, instrument.organisation_id),
              record=record)
    _raise_reference_problems(ReferenceSets.load(session).problems(data), record=record)
    changes = data.model_dump(exclude_unset=True, exclude={"technique_codes", "service_items"})
    for key, value in changes.items():
        setattr(instrument, key, value)
    if data.technique_codes is not None:
        instrument.techniques.clear()
        session.flush()
        instrument.techniques.extend(InstrumentTechnique(technique_code=code, position=i)
                                     for i, code in enumerate(data.technique_codes))
    if data.service_items is not None:
        instrument.service_items.clear()
        session.flush()
        instrument.service_items.extend(_service_items(data.service_items))
    instrument.updated_at = now
    session.flush()
    return instrument


def change_lifecycle(session: Session, instrument: Instrument, *, to_state: LifecycleState,
                     reason: str, actor: Actor, now: datetime) -> LifecycleChange:
    """Move an instrument to another lifecycle state and record who did it and why.

    Retired is final; an instrument that is retired or not in service cannot stay open to
    external users.
    """
    record = f"instrument {instrument.exchange_id}"
    authorize(actor, Action.CHANGE_LIFECYCLE, _target(session, instrument.organisation_id),
              record=record)
    current = LifecycleState(instrument.lifecycle_state)
    if current is LifecycleState.RETIRED:
        raise BadLifecycleMove("a retired instrument cannot change state", record=record,
                               field="lifecycle_state")
    if to_state is current:
        raise BadLifecycleMove(f"already {current.value}", record=record,
                               field="lifecycle_state")
    if not reason.strip():
        raise InvalidInput("say why the state changes", record=record, field="reason")
    instrument.lifecycle_state = to_state
    if to_state is LifecycleState.RETIRED:
        instrument.is_open_external = False
    instrument.updated_at = now
    change = LifecycleChange(instrument_id=instrument.id, from_state=current, to_state=to_state,
                             changed_at=now, changed_by_id=actor.account_id or None,
                             reason=reason.strip())
    session.add(change)
    session.flush()
    return change


def register_instruments_in_bulk(session: Session, records: list[InstrumentCreate], *,
                                 now: datetime) -> int:
    """Insert many already-checked instruments at once (imports, the demo builder).

    The caller has authorised the actor and checked every record against `ReferenceSets` and
    existing exchange ids; this only writes, with executemany batches (COPY on PostgreSQL)
    instead of one ORM object per row, which is what makes 50,000-row imports take seconds
    rather than minutes.
    """
    if not records:
        return 0
    # Core statements on the session's connection: the ORM bulk path costs about three times
    # as much per row, and a multi-row INSERT ... RETURNING with thousands of parameters
    # spends most of its time in the driver's query parser. Flush first, since Core does not.
    session.flush()
    connection = session.connection()
    postgres = is_postgres(session)
    instrument_rows = [record.model_dump(exclude={"technique_codes", "service_items"})
                       | {"created_at": now, "updated_at": now} for record in records]
    if postgres:
        # COPY takes explicit ids, drawn from the table's own sequence in one round trip.
        ids = list(connection.scalars(text(
            "SELECT nextval(pg_get_serial_sequence('instrument', 'id')) "
            "FROM generate_series(1, :n)"), {"n": len(records)}))
        for id_, row in zip(ids, instrument_rows, strict=True):
            row["id"] = id_
        _copy_rows(connection, Instrument.__tablename__, instrument_rows)
    else:
        connection.execute(insert(Instrument), instrument_rows)
        exchange_ids = [record.exchange_id for record in records]
        id_of: dict[str, int] = {}
        for start in range(0, len(exchange_ids), 5000):  # within SQLite's variable limit
            id_of.update(iter(connection.execute(
                select(Instrument.exchange_id, Instrument.id).where(
                    Instrument.exchange_id.in_(exchange_ids[start:start + 5000])))))
        ids = [id_of[exchange_id] for exchange_id in exchange_ids]
    technique_rows = [{"instrument_id": id_, "technique_code": code, "position": i}
                      for id_, record in zip(ids, records, strict=True)
                      for i, code in enumerate(record.technique_codes)]
    item_rows = [item.model_dump() | {"instrument_id": id_, "position": i}
                 for id_, record in zip(ids, records, strict=True)
                 for i, item in enumerate(record.service_items)]
    history_rows = [{"instrument_id": id_, "from_state": None,
                     "to_state": record.lifecycle_state, "changed_at": now,
                     "changed_by_id": None, "reason": "imported"}
                    for id_, record in zip(ids, records, strict=True)]
    for model, rows in ((InstrumentTechnique, technique_rows), (ServiceItem, item_rows),
                        (LifecycleChange, history_rows)):
        if not rows:
            continue
        if postgres:
            _copy_rows(connection, model.__tablename__, rows)
        else:
            connection.execute(insert(model), rows)
    return len(ids)


def _copy_rows(connection: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL COPY of `rows` (dicts with the same keys) into `table`, in the transaction."""
    from psycopg import sql

    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(column) for column in columns))
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


def refresh_statistics(session: Session) -> None:
    """Update the query planner's statistics after a bulk load.

    Without them SQLite guesses, and after a large import it may sort tens of thousands of
    rows for a 20-row page instead of walking an index.
    """
    session.flush()
    session.execute(text("ANALYZE"))


def existing_exchange_ids(session: Session, candidates: list[str]) -> set[str]:
    """Which of `candidates` are already listed."""
    found: set[str] = set()
    for start in range(0, len(candidates), 5000):
        found.update(session.scalars(select(Instrument.exchange_id).where(
            Instrument.exchange_id.in_(candidates[start:start + 5000]))))
    return found


# Reading -----------------------------------------------------------------------------------

def get_instrument(session: Session, exchange_id: str) -> Instrument:
    instrument = session.scalar(select(Instrument).where(
        Instrument.exchange_id == exchange_id).options(
        selectinload(Instrument.techniques), selectinload(Instrument.service_items)))
    if instrument is None:
        raise NotFound(f"no instrument {exchange_id}", record=f"instrument {exchange_id}",
                       field="exchange_id")
    return instrument


def read_instrument(instrument: Instrument) -> InstrumentRead:
    return InstrumentRead.model_validate(instrument)


def lifecycle_history(session: Session, instrument: Instrument) -> list[LifecycleChange]:
    return list(session.scalars(select(LifecycleChange).where(
        LifecycleChange.instrument_id == instrument.id).order_by(LifecycleChange.id)))


def _filtered(session: Session, wanted: InstrumentFilter) -> Select[Instrument]:
    query = select(Instrument)
    if wanted.q:
        pattern = f"%{wanted.q.strip()}%"
        # SQLite's LIKE already ignores ASCII case; its ILIKE would wrap both sides in lower()
        # and double the cost of the scan.
        postgres = is_postgres(session)
        query = query.where(or_(*(column.ilike(pattern) if postgres else column.like(pattern)
                                  for column in (Instrument.name_zh, Instrument.name_en,
                                                 Instrument.model, Instrument.manufacturer))))
    if wanted.class_code:
        query = query.where(Instrument.class_code.startswith(wanted.class_code)
                            if len(wanted.class_code) == 2
                            else Instrument.class_code == wanted.class_code)
    if wanted.region_code:
        query = query.where(Instrument.region_code.in_(
            region_and_descendants(session, wanted.region_code)))
    if wanted.organisation_code:
        query = query.where(Instrument.organisation_id == select(Organisation.id).where(
            Organisation.code == wanted.organisation_code).scalar_subquery())
    # A technique is offered by few instruments: an uncorrelated IN subquery answers it from
    # the (technique, instrument) index once instead of probing every instrument.
    if wanted.technique_code:
        query = query.where(Instrument.id.in_(select(InstrumentTechnique.instrument_id).where(
            InstrumentTechnique.technique_code == wanted.technique_code)))
    if wanted.is_open_external is not None:
        query = query.where(Instrument.is_open_external == wanted.is_open_external)
    if wanted.lifecycle_state is not None:
        query = query.where(Instrument.lifecycle_state == wanted.lifecycle_state)
    if wanted.price_min_fen is not None or wanted.price_max_fen is not None:
        # Price ranges are broad (tens of thousands of items), so probing each instrument's
        # few items beats materialising the matching set.
        priced = exists().where(ServiceItem.instrument_id == Instrument.id,
                                ServiceItem.is_active.is_(True))
        if wanted.price_min_fen is not None:
            priced = priced.where(ServiceItem.price_enterprise_fen >= wanted.price_min_fen)
        if wanted.price_max_fen is not None:
            priced = priced.where(ServiceItem.price_enterprise_fen <= wanted.price_max_fen)
        query = query.where(priced)
    return query


def search_instruments(session: Session, wanted: InstrumentFilter) -> InstrumentPage:
    """One page of instruments matching every given filter, ordered by exchange id."""
    if (wanted.price_min_fen is not None and wanted.price_max_fen is not None
            and wanted.price_min_fen > wanted.price_max_fen):
        raise InvalidInput("minimum price above maximum", record="catalog filter",
                           field="price_min_fen")
    query = _filtered(session, wanted)
    total = session.scalar(select(func.count()).select_from(
        query.with_only_columns(Instrument.id).subquery())) or 0
    min_price = (select(func.min(ServiceItem.price_enterprise_fen))
                 .where(ServiceItem.instrument_id == Instrument.id,
                        ServiceItem.is_active.is_(True))
                 .correlate(Instrument).scalar_subquery())
    rows = session.execute(
        query.join(Organisation, Organisation.id == Instrument.organisation_id)
        .add_columns(Organisation.code, Organisation.name_zh, Organisation.name_en, min_price)
        .order_by(Instrument.exchange_id)
        .offset((wanted.page - 1) * wanted.page_size).limit(wanted.page_size)).all()
    items = [InstrumentSummary(
        exchange_id=inst.exchange_id, name_zh=inst.name_zh, name_en=inst.name_en,
        model=inst.model, manufacturer=inst.manufacturer, class_code=inst.class_code,
        organisation_code=org_code, organisation_name_zh=org_zh, organisation_name_en=org_en,
        region_code=inst.region_code, lifecycle_state=inst.lifecycle_state,
        is_open_external=inst.is_open_external, min_price_enterprise_fen=price)
        for inst, org_code, org_zh, org_en, price in rows]
    return InstrumentPage(items=items, total=total, page=wanted.page,
                          page_size=wanted.page_size)


def catalog_stats(session: Session, *, region_code: str | None = None) -> CatalogStats:
    """Counts of the catalog in hand, optionally of one region and the regions below it."""
    scope = (Instrument.region_code.in_(region_and_descendants(session, region_code))
             if region_code else Instrument.id.is_not(None))
    by_type = dict(session.execute(
        select(Organisation.org_type, func.count(Instrument.id))
        .join(Instrument, Instrument.organisation_id == Organisation.id).where(scope)
        .group_by(Organisation.org_type).order_by(Organisation.org_type)).all())
    major = func.substr(Instrument.class_code, 1, 2)
    by_major: dict[str, int] = dict(session.execute(
        select(major, func.count()).where(scope).group_by(major).order_by(major)).all())
    by_region = dict(session.execute(
        select(Instrument.region_code, func.count()).where(scope)
        .group_by(Instrument.region_code).order_by(Instrument.region_code)).all())
    return CatalogStats(
        instruments=session.scalar(select(func.count()).select_from(Instrument)
                                   .where(scope)) or 0,
        organisations=session.scalar(select(func.count(func.distinct(
            Instrument.organisation_id))).where(scope)) or 0,
        instruments_by_org_type={str(k): v for k, v in by_type.items()},
        total_value_fen=session.scalar(select(func.coalesce(
            func.sum(Instrument.original_value_fen), 0)).where(scope)) or 0,
        instruments_by_major_class={str(k): v for k, v in by_major.items()},
        instruments_by_region={str(k): v for k, v in by_region.items()},
    )
