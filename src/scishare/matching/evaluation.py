"""`scishare eval matching`: quality and latency of the matcher and of plain BM25.

Both run over the same catalog in the same process. An offer's gain is the highest grade among
its techniques; the ideal ranking is the best possible one over every eligible offer in the
catalog, so a technique offered by only three instruments is not penalised for the other seven
places. hit@k asks for an offer of grade 2 within the first k; MRR uses the first such offer.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from scishare.core.errors import InvalidInput
from scishare.matching.catalog_index import CatalogIndex
from scishare.matching.ranking import DEFAULT_WEIGHTS, Constraints, Weights, eligible
from scishare.matching.schemas import MatchRequest
from scishare.matching.service import Engine, match
from scishare.matching.text import tokenize

K = 10


class Case(BaseModel):
    id: str = Field(min_length=1)
    lang: str = Field(pattern=r"^(zh|en)$")
    query: str = Field(min_length=1)
    relevant: dict[str, int]


def read_cases(path: Path) -> list[Case]:
    """The labelled set, one JSON object per line; a bad line is named by its number."""
    cases: list[Case] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(Case.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as error:
            raise InvalidInput(f"not a labelled case: {error}".splitlines()[0],
                               record=f"{path.name} line {number}") from None
    if not cases:
        raise InvalidInput("no cases", record=str(path))
    return cases


@dataclass(frozen=True)
class Run:
    """One ranking of one case: the gains of its top offers and how long it took."""

    case: Case
    gains: list[int]
    ideal: list[int]
    ms: float


def ndcg(gains: list[int], ideal: list[int]) -> float:
    def dcg(values: list[int]) -> float:
        return sum(g / math.log2(i + 2) for i, g in enumerate(values[:K]))
    best = dcg(ideal)
    return dcg(gains) / best if best > 0 else 0.0


def summarise(runs: list[Run]) -> dict[str, float]:
    if not runs:
        return {}
    first = [next((i for i, g in enumerate(r.gains[:K]) if g == 2), None) for r in runs]
    times = np.array([r.ms for r in runs])
    return {
        "ndcg@10": round(float(np.mean([ndcg(r.gains, r.ideal) for r in runs])), 4),
        "hit@1": round(float(np.mean([f == 0 for f in first])), 4),
        "hit@5": round(float(np.mean([f is not None and f < 5 for f in first])), 4),
        "mrr": round(float(np.mean([1 / (f + 1) if f is not None else 0.0 for f in first])), 4),
        "mean_ms": round(float(times.mean()), 2),
        "p95_ms": round(float(np.percentile(times, 95)), 2),
    }


def instrument_gains(catalog: CatalogIndex, technique_codes: list[str],
                     relevant: dict[str, int]) -> NDArray[np.int64]:
    grade = np.array([relevant.get(code, 0) for code in technique_codes] + [0],
                     dtype=np.int64)
    gains: NDArray[np.int64] = grade[catalog.techniques].max(axis=1)
    return gains


def ideal_gains(catalog: CatalogIndex, technique_codes: list[str], relevant: dict[str, int],
                mask: NDArray[np.bool_]) -> list[int]:
    gains = instrument_gains(catalog, technique_codes, relevant)[mask]
    return sorted((int(g) for g in gains if g > 0), reverse=True)[:K]


def bm25_baseline(catalog: CatalogIndex, need: str,
                  mask: NDArray[np.bool_]) -> tuple[list[int], float]:
    """Plain BM25 over instrument texts (jieba tokens), eligible instruments only."""
    started = time.perf_counter()
    scores = np.where(mask, catalog.lexical(tokenize(need)), -np.inf)
    count = min(K, int(mask.sum()))
    top = np.argpartition(-scores, count - 1)[:count] if count else np.array([], dtype=int)
    top = top[np.argsort(-scores[top], kind="stable")]
    rows = [int(r) for r in top if np.isfinite(scores[r])]
    return rows, (time.perf_counter() - started) * 1000


def evaluate(session: Session, cases: list[Case], *, engine: Engine,
             weights: Weights = DEFAULT_WEIGHTS) -> dict[str, object]:
    """nDCG@10, hit@1, hit@5, MRR, mean and p95 latency for the matcher and BM25, overall
    and per language, in the `--json` shape of interfaces.md (plus `by_lang`)."""
    catalog = engine.catalog
    codes = engine.scorer.techniques
    mask = eligible(catalog, Constraints())
    match(session, MatchRequest(need=cases[0].query), engine=engine, weights=weights)  # warm
    system: list[Run] = []
    baseline: list[Run] = []
    for case in cases:
        ideal = ideal_gains(catalog, codes, case.relevant, mask)
        result = match(session, MatchRequest(need=case.query), engine=engine, weights=weights)
        system.append(Run(case, [max((case.relevant.get(t, 0) for t in offer.techniques),
                                     default=0) for offer in result.offers], ideal,
                          result.took_ms))
        gains = instrument_gains(catalog, codes, case.relevant)
        rows, ms = bm25_baseline(catalog, case.query, mask)
        baseline.append(Run(case, [int(gains[r]) for r in rows], ideal, ms))
    report: dict[str, object] = {"n": len(cases), "system": summarise(system),
                                 "baseline_bm25": summarise(baseline)}
    report["by_lang"] = {lang: {"n": sum(r.case.lang == lang for r in system),
                                "system": summarise([r for r in system if r.case.lang == lang]),
                                "baseline_bm25": summarise([r for r in baseline
                                                            if r.case.lang == lang])}
                         for lang in sorted({c.lang for c in cases})}
    report["catalog"] = {"instruments": len(catalog), "documents": catalog.document_count,
                         "vectors": int(catalog.vectors.shape[0])}
    return report
