"""The offerable catalog as arrays: what each instrument offers, where, at what price.

Built once per catalog revision. Lexical documents and embedding texts are deduplicated —
instruments of the same model and description share one BM25 document and one stored vector —
which is what keeps a 100,000-instrument build to minutes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import bm25s
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scishare.accounts.models import Organisation
from scishare.catalog.models import (
    Instrument,
    InstrumentTechnique,
    LifecycleState,
    ServiceItem,
)
from scishare.knowledge.graph import KnowledgeGraph
from scishare.knowledge.models import NodeKind
from scishare.matching.embedding import Embedder, stored_passages
from scishare.matching.schemas import UserCategory
from scishare.matching.text import tokenize

OFFERABLE = (LifecycleState.IN_SERVICE, LifecycleState.IDLE)
MAX_TECHNIQUES = 8
NO_PRICE = -1


@dataclass(frozen=True)
class Item:
    id: int
    name_zh: str
    name_en: str
    unit: str
    prices: dict[UserCategory, int]


@dataclass(frozen=True)
class Row:
    """What an offer shows about its instrument."""

    id: int
    exchange_id: str
    name_zh: str
    name_en: str
    model: str
    manufacturer: str
    class_code: str
    organisation_zh: str
    organisation_en: str
    region_code: str
    lexical_text: str
    items: tuple[Item, ...]


def catalog_revision(session: Session) -> str:
    """Changes whenever an instrument or a service item is added, edited or removed."""
    instruments = session.execute(select(func.count(), func.max(Instrument.updated_at),
                                         func.max(Instrument.id))).one()
    items = session.execute(select(func.count(), func.max(ServiceItem.id))).one()
    return f"i{instruments[0]}-{instruments[1]}-{instruments[2]}:s{items[0]}-{items[1]}"


def semantic_text(name_zh: str, name_en: str, model: str, manufacturer: str) -> str:
    """What an instrument is embedded as: names, model and maker (shared by many units)."""
    return " ".join(p for p in (name_zh, name_en, manufacturer, model) if p)


class CatalogIndex:
    """Arrays over offerable instruments (in service or idle), row order = `rows`."""

    def __init__(self, rows: list[Row], *, technique_codes: list[str],
                 techniques: list[list[str]], flags: dict[str, NDArray[np.bool_]],
                 latitude: NDArray[np.float64], longitude: NDArray[np.float64],
                 semantic_texts: list[str], vectors: NDArray[np.float32],
                 revision: str) -> None:
        self.rows = rows
        self.revision = revision
        position = {code: i for i, code in enumerate(technique_codes)}
        self.technique_codes = technique_codes
        known = [[position[c] for c in codes if c in position][:MAX_TECHNIQUES]
                 for codes in techniques]
        # As wide as the instrument with most techniques: most offer one to three.
        width = max((len(k) for k in known), default=1) or 1
        self.techniques = np.full((len(rows), width), -1, dtype=np.int32)
        for r, codes_known in enumerate(known):
            self.techniques[r, :len(codes_known)] = codes_known
        # Instruments share technique lists (a model's list); scoring works per distinct list.
        combos: dict[tuple[int, ...], int] = {}
        self.combo = np.array([combos.setdefault(tuple(k), len(combos)) for k in known],
                              dtype=np.int32)
        self.combos = np.full((max(len(combos), 1), width), -1, dtype=np.int32)
        for combo, index in combos.items():
            self.combos[index, :len(combo)] = combo
        self.masks: dict[tuple[bool, bool, bool], NDArray[np.bool_]] = {}
        self.has_cma = flags["has_cma"]
        self.has_cnas = flags["has_cnas"]
        self.is_open = flags["is_open"]
        self.latitude = latitude
        self.longitude = longitude
        regions = sorted({row.region_code for row in rows})
        self.regions = regions
        region_position = {code: i for i, code in enumerate(regions)}
        self.region = np.array([region_position[row.region_code] for row in rows],
                               dtype=np.int32)
        self.min_price = {category: np.array(
            [min((item.prices[category] for item in row.items), default=NO_PRICE)
             for row in rows], dtype=np.int64) for category in UserCategory}
        documents: dict[str, int] = {}
        self.document = np.array([documents.setdefault(row.lexical_text, len(documents))
                                  for row in rows], dtype=np.int32)
        self.bm25 = bm25s.BM25()
        corpus = [tokenize(text) for text in documents]
        self.bm25.index(corpus or [["empty"]], show_progress=False)
        distinct: dict[str, int] = {}
        self.vector_row = np.array([distinct.setdefault(text, len(distinct))
                                    for text in semantic_texts], dtype=np.int32)
        self.vectors = vectors
        self.document_count = len(documents)

    def __len__(self) -> int:
        return len(self.rows)

    def lexical(self, tokens: list[str]) -> NDArray[np.float64]:
        """BM25 of each instrument's document for the need's tokens."""
        known = [t for t in tokens if t in self.bm25.vocab_dict]
        if not known or not self.rows:
            return np.zeros(len(self.rows))
        return np.asarray(self.bm25.get_scores(known), dtype=np.float64)[self.document]

    def semantic(self, query_vector: NDArray[np.float32]) -> NDArray[np.float64]:
        """Standardised cosine of each instrument's text to the need, computed once per
        distinct text (raw e5 cosines sit in a narrow band; only their order means much)."""
        if not self.rows:
            return np.zeros(0)
        cosine = (self.vectors @ query_vector).astype(np.float64)
        spread = cosine.std()
        standard = (cosine - cosine.mean()) / spread if spread > 0 else cosine * 0.0
        return standard[self.vector_row]


def _lexical_text(name_zh: str, name_en: str, model: str, manufacturer: str, functions: str,
                  techniques: list[str], graph: KnowledgeGraph) -> str:
    parts = [name_zh, name_en, model, manufacturer, functions]
    for code in techniques:
        node = graph.node((NodeKind.TECHNIQUE, code))
        if node is not None:
            parts += [node.name_zh, node.name_en, *node.aliases]
    return " ".join(p for p in parts if p)


def build_catalog_index(session: Session, graph: KnowledgeGraph, *,
                        technique_codes: list[str], embedder: Embedder | None = None,
                        revision: str | None = None) -> CatalogIndex:
    """Read the offerable catalog and index it; embeds only texts never stored before."""
    revision = revision or catalog_revision(session)
    techniques: dict[int, list[str]] = defaultdict(list)
    for instrument_id, code in session.execute(
            select(InstrumentTechnique.instrument_id, InstrumentTechnique.technique_code)
            .order_by(InstrumentTechnique.instrument_id, InstrumentTechnique.position)):
        techniques[instrument_id].append(code)
    items: dict[int, list[Item]] = defaultdict(list)
    for item in session.execute(
            select(ServiceItem.id, ServiceItem.instrument_id, ServiceItem.name_zh,
                   ServiceItem.name_en, ServiceItem.unit, ServiceItem.price_internal_fen,
                   ServiceItem.price_nonprofit_fen, ServiceItem.price_enterprise_fen)
            .where(ServiceItem.is_active.is_(True))
            .order_by(ServiceItem.instrument_id, ServiceItem.position)):
        items[item.instrument_id].append(Item(
            id=item.id, name_zh=item.name_zh, name_en=item.name_en, unit=str(item.unit),
            prices={UserCategory.INTERNAL: item.price_internal_fen,
                    UserCategory.NONPROFIT: item.price_nonprofit_fen,
                    UserCategory.ENTERPRISE: item.price_enterprise_fen}))
    query = (select(Instrument.id, Instrument.exchange_id, Instrument.name_zh,
                    Instrument.name_en, Instrument.model, Instrument.manufacturer,
                    Instrument.functions, Instrument.class_code, Instrument.region_code,
                    Instrument.latitude, Instrument.longitude, Instrument.has_cma,
                    Instrument.has_cnas, Instrument.is_open_external, Organisation.name_zh,
                    Organisation.name_en)
             .join(Organisation, Organisation.id == Instrument.organisation_id)
             .where(Instrument.lifecycle_state.in_([s.value for s in OFFERABLE]))
             .order_by(Instrument.id))
    rows: list[Row] = []
    instrument_techniques: list[list[str]] = []
    semantic: list[str] = []
    cma, cnas, is_open, latitude, longitude = [], [], [], [], []
    for r in session.execute(query):
        codes = techniques.get(r.id, [])
        rows.append(Row(id=r.id, exchange_id=r.exchange_id, name_zh=r.name_zh,
                        name_en=r.name_en, model=r.model, manufacturer=r.manufacturer,
                        class_code=r.class_code, organisation_zh=r[14], organisation_en=r[15],
                        region_code=r.region_code,
                        lexical_text=_lexical_text(r.name_zh, r.name_en, r.model,
                                                   r.manufacturer, r.functions, codes, graph),
                        items=tuple(items.get(r.id, ()))))
        instrument_techniques.append(codes)
        semantic.append(semantic_text(r.name_zh, r.name_en, r.model, r.manufacturer))
        cma.append(r.has_cma)
        cnas.append(r.has_cnas)
        is_open.append(r.is_open_external)
        latitude.append(np.nan if r.latitude is None else r.latitude)
        longitude.append(np.nan if r.longitude is None else r.longitude)
    distinct = list(dict.fromkeys(semantic))
    vectors = stored_passages(session, distinct, embedder=embedder)
    return CatalogIndex(
        rows, technique_codes=technique_codes, techniques=instrument_techniques,
        flags={"has_cma": np.array(cma, dtype=bool), "has_cnas": np.array(cnas, dtype=bool),
               "is_open": np.array(is_open, dtype=bool)},
        latitude=np.array(latitude, dtype=np.float64),
        longitude=np.array(longitude, dtype=np.float64),
        semantic_texts=semantic, vectors=vectors, revision=revision)
