"""Matching a need to ranked, explained offers.

`match` is read-only; `ask` also records the need for the unmet-demand monitor. The engine
(technique scorer + catalog index) is built once and reused until the knowledge graph or the
catalog changes; requests in between pay only for the need itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from scishare.accounts.models import Account
from scishare.accounts.service import get_organisation
from scishare.booking.service import booking_rules, next_free_slot
from scishare.catalog.models import Instrument
from scishare.catalog.service import get_instrument
from scishare.core.errors import NotFound
from scishare.knowledge.graph import KnowledgeGraph
from scishare.knowledge.models import NodeKind
from scishare.knowledge.service import graph_revision, load_graph, require_loaded
from scishare.matching.catalog_index import CatalogIndex, Row, build_catalog_index
from scishare.matching.catalog_index import catalog_revision as _catalog_revision
from scishare.matching.embedding import Embedder, get_embedder
from scishare.matching.errors import BadNeed, UnknownNeed
from scishare.matching.explain import explain
from scishare.matching.models import NeedRecord
from scishare.matching.ranking import (
    DEFAULT_WEIGHTS,
    Constraints,
    InstrumentScores,
    Weights,
    instrument_scores,
    rank,
    technique_chances,
)
from scishare.matching.schemas import (
    MAX_NEED_CHARS,
    MAX_TOP,
    InstrumentBrief,
    MatchRequest,
    MatchResult,
    Offer,
    RegionMode,
    ServiceBrief,
)
from scishare.matching.techniques import Evidence, TechniqueScorer
from scishare.matching.text import language, tokenize
from scishare.matching.text import token_set as token_set_of
from scishare.regions.models import Region
from scishare.regions.service import get_region, region_and_descendants

UNMET_THRESHOLD = 0.35
RECORD = "need"


@dataclass
class Engine:
    """What matching keeps in memory between requests."""

    graph: KnowledgeGraph
    scorer: TechniqueScorer
    catalog: CatalogIndex
    embedder: Embedder
    build_seconds: dict[str, float]

    @property
    def revision(self) -> tuple[str, str]:
        return (self.graph.revision, self.catalog.revision)


_scorers: dict[str, TechniqueScorer] = {}
_scorers_lock = Lock()


def technique_scorer(session: Session, graph: KnowledgeGraph, *,
                     embedder: Embedder | None = None) -> TechniqueScorer:
    """The technique scorer for this graph's content; a catalog change does not rebuild it."""
    with _scorers_lock:
        scorer = _scorers.get(graph.fingerprint)
        if scorer is None:
            scorer = TechniqueScorer.build(session, graph, embedder=embedder or get_embedder())
            _scorers.clear()
            _scorers[graph.fingerprint] = scorer
        return scorer


def build_engine(session: Session, *, embedder: Embedder | None = None) -> Engine:
    """Index the graph and the offerable catalog (embedding only texts never seen before)."""
    require_loaded(session)
    embedder = embedder or get_embedder()
    started = time.perf_counter()
    graph = load_graph(session)
    scorer = technique_scorer(session, graph, embedder=embedder)
    knowledge_done = time.perf_counter()
    catalog = build_catalog_index(session, graph, technique_codes=scorer.techniques,
                                  embedder=embedder)
    done = time.perf_counter()
    return Engine(graph=graph, scorer=scorer, catalog=catalog, embedder=embedder,
                  build_seconds={"knowledge": knowledge_done - started,
                                 "catalog": done - knowledge_done})


_engine: Engine | None = None
_checked_at = 0.0
_engine_lock = Lock()


def current_engine(session: Session, *, max_age_s: float = 2.0) -> Engine:
    """The shared engine, rebuilt when the graph or catalog changed since it was built.

    Revisions are checked at most every `max_age_s` seconds, so a burst of requests costs one
    check; a change is picked up within that time.
    """
    global _engine, _checked_at
    with _engine_lock:
        now = time.monotonic()
        if _engine is not None and now - _checked_at < max_age_s:
            return _engine
        revision = (graph_revision(session), _catalog_revision(session))
        if _engine is None or _engine.revision != revision:
            _engine = build_engine(session)
        _checked_at = now
        return _engine


def forget_engine() -> None:
    """Drop the shared engine (tests, and after bulk imports in the same process)."""
    global _engine
    with _engine_lock:
        _engine = None


def _region_of(session: Session, request: MatchRequest) -> Region | None:
    """The request's region, if it names one; BadNeed if it names none we know."""
    if request.region_code is None:
        return None
    try:
        return get_region(session, request.region_code)
    except NotFound:
        raise BadNeed(f"unknown region code {request.region_code}", record=RECORD,
                      field="region_code") from None


def _constraints(session: Session, request: MatchRequest, region: Region | None,
                 catalog: CatalogIndex) -> Constraints:
    region_rows: frozenset[int] | None = None
    origin: tuple[float, float] | None = None
    if region is not None:
        if request.region_mode is RegionMode.WITHIN:
            codes = set(region_and_descendants(session, region.code))
            region_rows = frozenset(i for i, c in enumerate(catalog.regions) if c in codes)
        elif region.latitude is not None and region.longitude is not None:
            origin = (region.latitude, region.longitude)
    if request.latitude is not None and request.longitude is not None:
        origin = (request.latitude, request.longitude)
    return Constraints(open_external_only=request.open_external_only,
                       require_cma=request.require_cma, require_cnas=request.require_cnas,
                       region_rows=region_rows, budget_fen=request.budget_fen,
                       category_prices=catalog.min_price[request.user_category],
                       origin=origin)


def check_request(request: MatchRequest) -> str:
    """The need, trimmed; raises BadNeed naming the field for anything unusable."""
    need = request.need.strip()
    if not need:
        raise BadNeed("the need is empty: say what you want to find out", record=RECORD,
                      field="need")
    if len(need) > MAX_NEED_CHARS:
        raise BadNeed(f"the need has {len(need)} characters; at most {MAX_NEED_CHARS}",
                      record=RECORD, field="need")
    if request.budget_fen is not None and request.budget_fen < 0:
        raise BadNeed("the budget cannot be negative", record=RECORD, field="budget_fen")
    if not 1 <= request.top <= MAX_TOP:
        raise BadNeed(f"top must be between 1 and {MAX_TOP}", record=RECORD, field="top")
    if request.region_code is not None and not (
            len(request.region_code) == 6 and request.region_code.isdigit()):
        raise BadNeed(f"unknown region code {request.region_code}: region codes have six "
                      "digits", record=RECORD, field="region_code")
    for name, value, limit in (("latitude", request.latitude, 90),
                               ("longitude", request.longitude, 180)):
        if value is not None and not -limit <= value <= limit:
            raise BadNeed(f"{name} must lie between -{limit} and {limit}", record=RECORD,
                          field=name)
    if (request.latitude is None) != (request.longitude is None):
        raise BadNeed("give latitude and longitude together", record=RECORD,
                      field="latitude")
    return need


def _service(row: Row, request: MatchRequest, tokens: set[str]) -> ServiceBrief | None:
    usable = [item for item in row.items if request.budget_fen is None
              or item.prices[request.user_category] <= request.budget_fen]
    if not usable:
        return None
    item = max(usable, key=lambda i: (len(tokens & token_set_of(f"{i.name_zh} {i.name_en}")),
                                      -i.prices[request.user_category]))
    return ServiceBrief(id=item.id, name_zh=item.name_zh, name_en=item.name_en,
                        price_fen=item.prices[request.user_category], unit=item.unit)


@dataclass
class Scored:
    """A need scored against the whole catalog, before constraints and ranking."""

    need: str
    lang: str
    tokens: list[str]
    evidence: Evidence
    technique_scores: np.ndarray
    instruments: InstrumentScores
    timings: dict[str, float]


def score_need(engine: Engine, need: str, *, weights: Weights = DEFAULT_WEIGHTS) -> Scored:
    """Every technique's and every offerable instrument's score for `need`.

    The query embedding comes first and uses both cores (the model's OpenMP threads); the
    need's words are scored after it. Scoring them meanwhile on a third thread was slower:
    the threads then take turns on two cores and the model waits for its slowest thread.
    """
    started = time.perf_counter()
    query_vector = engine.embedder.query(need)
    embedded = time.perf_counter()
    evidence = engine.scorer.lexical_evidence(need)
    tokens = tokenize(need)
    lexical = engine.catalog.lexical(tokens)
    engine.scorer.add_semantic_evidence(evidence, query_vector)
    technique_scores = evidence.features @ np.asarray(weights.technique)
    semantic = engine.catalog.semantic(query_vector)
    retrieved = time.perf_counter()
    instruments = instrument_scores(engine.catalog, technique_scores, lexical=lexical,
                                    semantic=semantic, weights=weights)
    scored = time.perf_counter()
    return Scored(need=need, lang=language(need), tokens=tokens, evidence=evidence,
                  technique_scores=technique_scores, instruments=instruments,
                  timings={"embed": (embedded - started) * 1000,
                           "retrieve": (retrieved - embedded) * 1000,
                           "rank": (scored - retrieved) * 1000})


def match(session: Session, request: MatchRequest, *, engine: Engine | None = None,
          weights: Weights = DEFAULT_WEIGHTS) -> MatchResult:
    """Ranked, explained offers for a need under the request's constraints (reads only)."""
    # Bad input is refused before the index is built or read.
    need = check_request(request)
    region = _region_of(session, request)
    engine = engine or current_engine(session)
    started = time.perf_counter()
    constraints = _constraints(session, request, region, engine.catalog)
    scored = score_need(engine, need, weights=weights)
    ranking_started = time.perf_counter()
    ranked = rank(engine.catalog, scored.instruments, constraints=constraints,
                  weights=weights, top=request.top)
    token_set = set(scored.tokens)
    chances = technique_chances(scored.technique_scores, weights)
    offers: list[Offer] = []
    for position, (row_index, _score, technique_index, distance) in enumerate(zip(
            ranked.rows, ranked.scores, ranked.techniques, ranked.distances_km,
            strict=True), start=1):
        row = engine.catalog.rows[row_index]
        technique = engine.scorer.techniques[technique_index] if technique_index >= 0 else ""
        codes = [engine.scorer.techniques[t] for t in engine.catalog.techniques[row_index]
                 if t >= 0]
        words = [t for t in scored.tokens if t in token_set_of(row.lexical_text)]
        paths, matched = explain(engine.graph, scored.evidence, technique, lang=scored.lang,
                                 instrument_words=list(dict.fromkeys(words)))
        offers.append(Offer(
            rank=position,
            score=round(float(chances[technique_index]), 3) if technique_index >= 0 else 0.0,
            instrument=InstrumentBrief(
                id=row.exchange_id, name_zh=row.name_zh, name_en=row.name_en,
                class_code=row.class_code, organisation=row.organisation_zh,
                organisation_en=row.organisation_en, region=row.region_code,
                model=row.model, manufacturer=row.manufacturer),
            techniques=[technique, *[c for c in codes if c != technique]] if technique
            else codes,
            service=_service(row, request, token_set), explanation=paths, matched=matched,
            distance_km=distance))
    finished = time.perf_counter()
    timings = dict(scored.timings)
    timings["rank"] += (finished - ranking_started) * 1000
    return MatchResult(query=need, took_ms=round((finished - started) * 1000, 1),
                       offers=offers, lang=scored.lang,
                       timings_ms={k: round(v, 2) for k, v in timings.items()})


def add_next_free(session: Session, result: MatchResult, *, now: datetime) -> None:
    """Fill each offer's `next_free_at` from its instrument's booking calendar."""
    ids = [offer.instrument.id for offer in result.offers]
    instruments = {i.exchange_id: i for i in session.scalars(
        select(Instrument).where(Instrument.exchange_id.in_(ids)))}
    for offer in result.offers:
        instrument = instruments.get(offer.instrument.id)
        if instrument is None:
            continue
        rules = booking_rules(session, instrument)
        slot = next_free_slot(session, instrument=instrument,
                              duration=timedelta(minutes=rules.min_minutes), now=now)
        offer.next_free_at = slot.starts_at if slot else None


def _industry(engine: Engine, need: str) -> str | None:
    for mention in engine.scorer.recogniser.find(need):
        if mention.node[0] in (NodeKind.MATERIAL, NodeKind.STANDARD):
            for neighbour in engine.graph.neighbours(mention.node, kind=NodeKind.INDUSTRY):
                return neighbour.node.code
    return None


def ask(session: Session, request: MatchRequest, *, asker: Account | None,
        now: datetime) -> MatchResult:
    """Match the need and record it, with how well it was answered, for the bureau."""
    result = match(session, request)
    engine = current_engine(session)
    if request.with_next_free:
        add_next_free(session, result, now=now)
    organisation = get_organisation(session, asker.organisation_id) if asker else None
    best = result.offers[0] if result.offers else None
    record = NeedRecord(
        asked_at=now, text=result.query, lang=result.lang,
        account_id=asker.id if asker else None,
        organisation_type=str(organisation.org_type) if organisation else None,
        region_code=request.region_code or (organisation.region_code if organisation
                                            else None),
        technique_code=best.techniques[0] if best and best.techniques else None,
        industry_code=_industry(engine, result.query),
        best_score=best.score if best else 0.0, offer_count=len(result.offers),
        is_unmet=best is None or best.score < UNMET_THRESHOLD)
    session.add(record)
    session.flush()
    return result.model_copy(update={"need_id": record.id})


def choose_offer(session: Session, *, need_id: int, instrument_exchange_id: str,
                 asker: Account | None, now: datetime) -> NeedRecord:
    """Remember which offer the asker went on with (e.g. followed the link to book it)."""
    record = session.get(NeedRecord, need_id)
    if record is None or (record.account_id is not None and (
            asker is None or asker.id != record.account_id)):
        raise UnknownNeed(f"no need {need_id}", record=f"need {need_id}", field="need_id")
    instrument = get_instrument(session, instrument_exchange_id)
    record.chosen_instrument_id = instrument.id
    record.chosen_at = now
    session.flush()
    return record


def needs_asked(session: Session, *, limit: int = 100) -> list[NeedRecord]:
    return list(session.scalars(select(NeedRecord).order_by(NeedRecord.id.desc())
                                .limit(limit)))
