"""Fitting `ranking.Weights` on a labelled set (`scishare eval matching FILE --fit`).

1. Technique weights: pairwise logistic regression. For every case, every pair (a technique of
   higher grade, one of lower grade) should score higher; the loss is the logistic loss of the
   score difference, weighted by the grade difference.
2. Temperature: the softmax temperature over technique scores that best predicts which
   techniques are grade 2 (the log-likelihood of their share), so that offer scores read as a
   chance and thresholds (unmet demand, subscriptions) mean something.
3. Instrument-level terms and the diversity penalty: a small grid, scored by nDCG@10 and hit@5
   of the worse language, over the catalog in hand.

Steps 1 and 2 also learn from the graph itself: every technique's Chinese and English name
is a need that wants that technique. The labelled set has few needs that simply name a
technique, and without these the fit would let example needs outvote a named technique.

Five-fold cross-validation of step 1 reports how much of the fit carries to unseen needs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from scishare.knowledge.models import NodeKind
from scishare.matching.evaluation import Case, K, ideal_gains, instrument_gains, ndcg
from scishare.matching.ranking import Constraints, InstrumentScores, Weights, eligible, rank
from scishare.matching.ranking import instrument_scores as combine
from scishare.matching.service import Engine
from scishare.matching.text import tokenize


@dataclass
class Collected:
    """What one labelled case needs for refitting without running the model again."""

    case: Case
    features: NDArray[np.float64]
    labels: NDArray[np.int64]
    lexical: NDArray[np.float64]
    semantic: NDArray[np.float64]
    gains: NDArray[np.int64]
    ideal: list[int]


def collect(engine: Engine, cases: list[Case]) -> list[Collected]:
    codes = engine.scorer.techniques
    mask = eligible(engine.catalog, Constraints())
    found: list[Collected] = []
    for case in cases:
        vector = engine.embedder.query(case.query)
        evidence = engine.scorer.evidence(case.query, vector)
        found.append(Collected(
            case=case, features=evidence.features,
            labels=np.array([case.relevant.get(c, 0) for c in codes], dtype=np.int64),
            lexical=engine.catalog.lexical(tokenize(case.query)),
            semantic=engine.catalog.semantic(vector),
            gains=instrument_gains(engine.catalog, codes, case.relevant),
            ideal=ideal_gains(engine.catalog, codes, case.relevant, mask)))
    return found


def not_testing_features(engine: Engine) -> list[NDArray[np.float64]]:
    return [engine.scorer.evidence(need, engine.embedder.query(need)).features
            for need in NOT_TESTING_NEEDS]


def naming_cases(engine: Engine) -> list[Case]:
    """A need per technique name (zh and en) that wants exactly that technique."""
    cases: list[Case] = []
    for code in engine.scorer.techniques:
        node = engine.graph.nodes[(NodeKind.TECHNIQUE, code)]
        for lang, name in (("zh", node.name_zh), ("en", node.name_en)):
            if name:
                cases.append(Case(id=f"name:{code}:{lang}", lang=lang, query=name,
                                  relevant={code: 2}))
    return cases


def fit_technique_weights(data: list[Collected], *, epochs: int = 3000, rate: float = 0.5,
                          l2: float = 1e-4) -> NDArray[np.float64]:
    rows_i, rows_j, delta = [], [], []
    for item in data:
        for better in np.nonzero(item.labels)[0]:
            worse = np.nonzero(item.labels < item.labels[better])[0]
            rows_i.append(np.repeat(item.features[better][None, :], len(worse), axis=0))
            rows_j.append(item.features[worse])
            delta.append(np.full(len(worse), float(item.labels[better]))
                         - item.labels[worse])
    difference = np.concatenate(rows_i) - np.concatenate(rows_j)
    grade = np.concatenate(delta)
    weights = np.zeros(difference.shape[1])
    for _ in range(epochs):
        margin = np.clip(difference @ weights, -30, 30)
        gradient = -(grade / (1 + np.exp(margin)))[:, None] * difference
        weights -= rate * (gradient.mean(axis=0) + l2 * weights)
    return weights


# Needs no instrument answers, to place the 'none' option of the chances (not from any
# labelled set; what people also type into a search box).
NOT_TESTING_NEEDS = (
    "我想吃火锅", "周末去哪里旅游", "帮我写一份年终总结", "公司注册需要什么材料",
    "招聘一名会计", "办公室租金多少钱一平", "怎么申请专利", "孩子上学择校建议",
    "推荐一部好看的电影", "个人所得税怎么算",
    "book a flight to Beijing", "best pizza near me", "how to write a cover letter",
    "company tax registration", "hire a web developer", "office space for rent",
    "wedding photographer recommendations", "learn to play the guitar",
    "translate my contract into English", "weather tomorrow",
)


def fit_chances(data: list[Collected], weights: NDArray[np.float64],
                not_testing: list[NDArray[np.float64]]) -> tuple[float, float]:
    """Temperature and 'none' score that best predict which techniques are grade 2 (their
    share of the chance) and that nothing answers the needs of `not_testing`."""
    def log_likelihood(temperature: float, none_score: float) -> float:
        total = 0.0
        for scores, wanted in [(item.features @ weights, item.labels == 2) for item in data] \
                + [(features @ weights, None) for features in not_testing]:
            scaled = np.append(scores, none_score) / temperature
            log_p = scaled - scaled.max() - np.log(np.exp(scaled - scaled.max()).sum())
            chosen = log_p[-1] if wanted is None else np.log(np.exp(log_p[:-1][wanted]).sum())
            total += float(chosen)
        return total
    best = max(itertools.product(np.geomspace(0.2, 5.0, 25), np.linspace(0.0, 20.0, 41)),
               key=lambda pair: log_likelihood(*pair))
    return round(float(best[0]), 3), round(float(best[1]), 2)


def _figures(engine: Engine, data: list[Collected], weights: Weights
             ) -> dict[str, tuple[float, float]]:
    by_lang: dict[str, list[tuple[float, bool]]] = {}
    for item in data:
        technique_scores = item.features @ np.asarray(weights.technique)
        scored: InstrumentScores = combine(engine.catalog, technique_scores,
                                           lexical=item.lexical, semantic=item.semantic,
                                           weights=weights)
        ranked = rank(engine.catalog, scored, constraints=Constraints(), weights=weights, top=K)
        gains = [int(item.gains[r]) for r in ranked.rows]
        by_lang.setdefault(item.case.lang, []).append(
            (ndcg(gains, item.ideal), any(g == 2 for g in gains[:5])))
    return {lang: (float(np.mean([n for n, _ in v])), float(np.mean([h for _, h in v])))
            for lang, v in by_lang.items()}


def _objective(figures: dict[str, tuple[float, float]]) -> float:
    return min(n for n, _ in figures.values()) + 0.5 * min(h for _, h in figures.values())


def fit(engine: Engine, cases: list[Case]) -> tuple[Weights, dict[str, object]]:
    """Fitted weights and a report: the fit's figures and 5-fold cross-validated ones."""
    data = collect(engine, cases)
    naming = collect(engine, naming_cases(engine))
    technique = fit_technique_weights(data + naming)
    temperature, none_score = fit_chances(data + naming, technique,
                                          not_testing_features(engine))
    weights = Weights(technique=tuple(round(float(w), 3) for w in technique),
                      temperature=temperature, none_score=none_score)
    best, best_value = weights, -1.0
    for secondary, lexical, semantic, repeat in itertools.product(
            (0.0, 0.1, 0.3), (0.0, 0.15, 0.3, 0.6), (0.0, 0.1, 0.2),
            (0.0, 0.1, 0.2, 0.4, 0.8)):
        candidate = replace(weights, secondary_technique=secondary,
                            instrument_lexical=lexical, instrument_semantic=semantic,
                            repeat_penalty=repeat)
        value = _objective(_figures(engine, data, candidate))
        if value > best_value + 1e-9:
            best, best_value = candidate, value
    folds = 5
    cross: dict[str, list[tuple[float, float]]] = {}
    for fold in range(folds):
        held = [item for i, item in enumerate(data) if i % folds == fold]
        kept = [item for i, item in enumerate(data) if i % folds != fold]
        fold_weights = replace(best, technique=tuple(float(w) for w in
                                                     fit_technique_weights(kept + naming)))
        for lang, figure in _figures(engine, held, fold_weights).items():
            cross.setdefault(lang, []).append(figure)
    named = [item.labels[int(np.argmax(item.features @ np.asarray(best.technique)))] == 2
             for item in naming]
    report: dict[str, object] = {
        "technique_names_first": round(float(np.mean(named)), 4),
        "fit": {lang: {"ndcg@10": round(n, 4), "hit@5": round(h, 4)}
                for lang, (n, h) in _figures(engine, data, best).items()},
        "cross_validated": {lang: {"ndcg@10": round(float(np.mean([n for n, _ in v])), 4),
                                   "hit@5": round(float(np.mean([h for _, h in v])), 4)}
                            for lang, v in cross.items()},
    }
    return best, report
