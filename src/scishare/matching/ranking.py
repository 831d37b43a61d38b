"""Combining the signals into one ranked list of offers, under the user's constraints.

An instrument's score is the score of the best technique it offers (from
`techniques.Evidence` and the learned technique weights), plus smaller instrument-level
lexical and semantic terms that order instruments of the same technique. Constraints filter;
"nearest" lowers the score with distance; then offers are picked greedily with a penalty for
each offer already picked of the same technique, so that a close second technique gets a
place near the top instead of the eleventh XRD.

The weights are fitted on the development set (`scishare eval matching --fit`): the technique
weights by pairwise logistic regression over (relevant, less relevant) technique pairs, the
instrument-level terms and the diversity penalty by a grid search of nDCG@10 and hit@5.
Nothing here depends on a particular need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scishare.matching.catalog_index import NO_PRICE, CatalogIndex
from scishare.matching.techniques import FEATURES

EARTH_RADIUS_KM = 6371.0
CANDIDATES = 200


@dataclass(frozen=True)
class Weights:
    """Fitted by `scishare eval matching src/scishare/data/eval/matching_dev.jsonl --fit` over
    the demo region (`scishare demo build`)."""

    technique: tuple[float, ...] = (0.154, 0.851, 1.211, 1.8, 0.837, 0.123, 1.074, 0.385,
                                    0.698, 1.23, -0.017, 1.519, 0.796)
    secondary_technique: float = 0.0
    instrument_lexical: float = 0.6
    instrument_semantic: float = 0.1
    repeat_penalty: float = 0.0
    distance_per_100km: float = 0.05
    # In "nearest first" mode the instrument-level terms only break ties, so that among
    # offers of the same technique the nearer comes first.
    nearest_instrument_share: float = 0.1
    # An offer's score is its technique's chance: a softmax over technique scores at this
    # temperature, beside a 'no technique answers this' option of this score.
    temperature: float = 0.765
    none_score: float = 8.0

    def __post_init__(self) -> None:
        if len(self.technique) != len(FEATURES):
            raise ValueError(f"{len(FEATURES)} technique weights needed")


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Constraints:
    open_external_only: bool = True
    require_cma: bool = False
    require_cnas: bool = False
    region_rows: frozenset[int] | None = None
    budget_fen: int | None = None
    category_prices: NDArray[np.int64] | None = None
    origin: tuple[float, float] | None = None


@dataclass(frozen=True)
class Ranked:
    rows: list[int]
    scores: list[float]
    techniques: list[int]
    distances_km: list[float | None]


def eligible(index: CatalogIndex, constraints: Constraints) -> NDArray[np.bool_]:
    """Instruments that satisfy every hard constraint."""
    flags = (constraints.open_external_only, constraints.require_cma, constraints.require_cnas)
    base = index.masks.get(flags)
    if base is None:
        base = np.ones(len(index), dtype=bool)
        if constraints.open_external_only:
            base &= index.is_open
        if constraints.require_cma:
            base &= index.has_cma
        if constraints.require_cnas:
            base &= index.has_cnas
        index.masks[flags] = base
    mask = base.copy()
    if constraints.region_rows is not None:
        mask &= np.isin(index.region, np.fromiter(constraints.region_rows, dtype=np.int32))
    if constraints.budget_fen is not None and constraints.category_prices is not None:
        prices = constraints.category_prices
        mask &= (prices != NO_PRICE) & (prices <= constraints.budget_fen)
    return mask


def distances_km(index: CatalogIndex, origin: tuple[float, float]) -> NDArray[np.float64]:
    """Great-circle distance of every instrument from `origin` (NaN where unknown)."""
    lat0, lon0 = np.radians(origin[0]), np.radians(origin[1])
    lat, lon = np.radians(index.latitude), np.radians(index.longitude)
    a = (np.sin((lat - lat0) / 2) ** 2
         + np.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2)
    distance: NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    return distance


@dataclass(frozen=True)
class InstrumentScores:
    total: NDArray[np.float64]
    technique_score: NDArray[np.float64]
    technique: NDArray[np.int64]


def instrument_scores(index: CatalogIndex, technique_scores: NDArray[np.float64], *,
                      lexical: NDArray[np.float64], semantic: NDArray[np.float64],
                      weights: Weights) -> InstrumentScores:
    """Each instrument's score, its best technique (position in `technique_codes`) and that
    technique's score."""
    padded = np.append(technique_scores, -np.inf)
    by_slot = padded[index.combos]
    by_slot[:, 1:] -= weights.secondary_technique
    best_slot = np.argmax(by_slot, axis=1)
    rows = np.arange(len(index.combos))
    combo_best = by_slot[rows, best_slot]
    combo_best = np.where(np.isfinite(combo_best), combo_best, technique_scores.min() - 1.0)
    combo_technique = index.combos[rows, best_slot].astype(np.int64)
    best = combo_best[index.combo]
    technique = combo_technique[index.combo]
    top = lexical.max() if lexical.size else 0.0
    total = (best + weights.instrument_lexical * (lexical / top if top > 0 else lexical)
             + weights.instrument_semantic * semantic)
    return InstrumentScores(total=total, technique_score=best, technique=technique)


def rank(index: CatalogIndex, scored: InstrumentScores, *, constraints: Constraints,
         weights: Weights, top: int) -> Ranked:
    """The best `top` eligible instruments, one offer each, diversified by technique."""
    mask = eligible(index, constraints)
    totals, technique = scored.total, scored.technique
    scores = np.where(mask, totals, -np.inf)
    distance: NDArray[np.float64] | None = None
    if constraints.origin is not None:
        distance = distances_km(index, constraints.origin)
        known = np.nan_to_num(distance, nan=np.nanmax(distance) if np.isfinite(
            distance).any() else 0.0)
        share = weights.nearest_instrument_share
        scores = (scored.technique_score + share * (totals - scored.technique_score)
                  - weights.distance_per_100km * known / 100.0)
        scores = np.where(mask, scores, -np.inf)
    count = min(CANDIDATES, int(mask.sum()))
    if count == 0:
        return Ranked([], [], [], [])
    pool = np.argpartition(-scores, count - 1)[:count]
    pool = pool[np.argsort(-scores[pool], kind="stable")]
    values = scores[pool]
    kinds = technique[pool]
    slot = kinds + 1  # technique -1 (none known) gets slot 0
    used = np.zeros(int(slot.max()) + 1)
    taken = np.zeros(len(pool), dtype=bool)
    picked: list[int] = []
    for _ in range(min(top, len(pool))):
        penalised = values - weights.repeat_penalty * used[slot]
        choice = int(np.argmax(np.where(taken, -np.inf, penalised)))
        taken[choice] = True
        picked.append(int(pool[choice]))
        used[slot[choice]] += 1
    return Ranked(rows=picked, scores=[float(totals[r]) for r in picked],
                  techniques=[int(technique[r]) for r in picked],
                  distances_km=[None if distance is None or not np.isfinite(distance[r])
                                else round(float(distance[r]), 1) for r in picked])


def technique_chances(technique_scores: NDArray[np.float64],
                      weights: Weights) -> NDArray[np.float64]:
    """For each technique, the fitted chance that it is the right one for the need: a softmax
    of the technique scores, so a clear winner reads high and two close rivals split it, with
    a 'none' option so that a need nothing answers well ("我想吃火锅") reads low everywhere."""
    scaled = np.append(technique_scores, weights.none_score) / weights.temperature
    chances = np.exp(scaled - scaled.max())
    result: NDArray[np.float64] = (chances / chances.sum())[:-1]
    return result
