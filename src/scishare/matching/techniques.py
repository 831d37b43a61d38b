"""Which techniques answer a need: graph expansion, BM25 and embeddings over the graph.

The technique is the hub: an offer is as good as the technique it provides, and the graph
knows techniques far better than instrument records do. For each need this module computes,
for every technique, a row of evidence features:

- `named`: the need names the technique (an alias such as `PXRD` or `物相分析`);
- `material_property`: it names a material and a property the seed links to the technique
  (the `锂电池正极材料 -> 晶体结构/物相 -> XRD` path), best-first order kept as weight;
- `property`: it names a property the technique measures;
- `standard`: it names a standard that prescribes the technique;
- `material`: it names a material whose core tests include the technique;
- `bm25`: jieba/BM25 over a text per technique (names, aliases, properties, materials,
  standards, notes), scaled to the best technique;
- `sem_card`, `sem_passage`, `sem_spread`: e5 similarity of the need to the technique's own
  card, to the best of its knowledge passages (a property, a material × property pair, a
  standard), and a soft vote over all passages — standardised per need, because raw e5 cosines
  sit in a narrow band.

`ranking.Weights` combines them into one score per technique.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import bm25s
import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from scishare.knowledge.graph import KnowledgeGraph, Node, NodeRef
from scishare.knowledge.models import NodeKind
from scishare.matching.embedding import Embedder, stored_passages
from scishare.matching.recognise import Mention, Recogniser
from scishare.matching.text import tokenize

FEATURES = ("sem_card", "sem_passage", "sem_spread", "bm25", "named", "material_property",
            "property", "standard", "material", "sem_example", "example_vote", "example_bm25",
            "probe")
F = {name: i for i, name in enumerate(FEATURES)}
MATERIAL_ONLY_FACTOR = 1.0
NON_CORE_FACTOR = 0.8
SPREAD_SHARPNESS = 100.0
PASSAGE_WEIGHT_LOG = 0.05
# The nearest example needs that vote for their technique, and how sharply closeness counts.
EXAMPLE_NEIGHBOURS = 12
EXAMPLE_SHARPNESS = 60.0


@dataclass(frozen=True)
class Passage:
    """A short text about one node or pair, and the techniques it points to."""

    text: str
    path: tuple[NodeRef, ...]
    techniques: dict[str, float]


@dataclass(frozen=True)
class Reason:
    """One way the need leads to a technique: the graph path and the words that matched."""

    path: tuple[NodeRef, ...]
    words: tuple[str, ...]
    strength: float
    semantic: bool = False
    example: str = ""  # an example need like this one, shown before the path


@dataclass
class Evidence:
    """Feature rows for every technique, plus what is needed to explain any of them."""

    features: NDArray[np.float64]
    mentions: list[Mention]
    reasons: dict[str, list[Reason]] = field(default_factory=dict)


@dataclass(frozen=True)
class Example:
    """One example need (in one language) and the technique that answers it."""

    text: str
    technique: str
    is_name: bool = False  # the technique's own name or alias, the plainest need of all


def example_needs(graph: KnowledgeGraph) -> list[Example]:
    """Every technique's example needs, Chinese and English as separate texts, and its names
    and aliases: without them a need that only names a technique would sit closer to the
    examples of its neighbours that mention it ("not routine XRD but …")."""
    found: list[Example] = []
    for node in sorted(graph.of_kind(NodeKind.TECHNIQUE), key=lambda n: n.code):
        found += [Example(text, node.code) for pair in node.example_needs for text in pair]
        names = dict.fromkeys(n for n in (node.name_zh, node.name_en, *node.aliases) if n)
        found += [Example(name, node.code, is_name=True) for name in names]
    return found


class TechniqueProbe:
    """A softmax regression from a need's e5 vector to its technique, trained on the
    example needs: it learns which directions of the embedding space tell techniques apart,
    which nearest-neighbour similarity alone cannot (raw cosines sit in a narrow band).

    Written here rather than taken from scikit-learn: it is thirty lines of numpy, and the
    project does not otherwise need scikit-learn and its SciPy stack.
    """

    EPOCHS = 300
    RATE = 2.0
    L2 = 1e-4
    SCALE = 20.0  # e5 vectors are unit length; scaled so the logits can separate

    def __init__(self, weights: NDArray[np.float64], bias: NDArray[np.float64]) -> None:
        self.weights = weights
        self.bias = bias

    @classmethod
    def fit(cls, vectors: NDArray[np.float32], labels: NDArray[np.int64],
            classes: int) -> TechniqueProbe:
        key = hashlib.sha256(vectors.tobytes() + labels.tobytes()).hexdigest()
        known = _probes.get(key)
        if known is not None:
            return known
        x = vectors.astype(np.float64) * cls.SCALE
        weights = np.zeros((x.shape[1], classes))
        bias = np.zeros(classes)
        if len(x):
            target = np.zeros((len(x), classes))
            target[np.arange(len(x)), labels] = 1.0
            for _ in range(cls.EPOCHS):
                logits = x @ weights + bias
                logits -= logits.max(axis=1, keepdims=True)
                p = np.exp(logits)
                p /= p.sum(axis=1, keepdims=True)
                error = (p - target) / len(x)
                weights -= cls.RATE * (x.T @ error + cls.L2 * weights)
                bias -= cls.RATE * error.sum(axis=0)
        probe = cls(weights, bias)
        _probes.clear()
        _probes[key] = probe
        return probe

    def probabilities(self, q: NDArray[np.float64]) -> NDArray[np.float64]:
        logits = (q * self.SCALE) @ self.weights + self.bias
        p = np.exp(logits - logits.max())
        result: NDArray[np.float64] = p / p.sum()
        return result


_probes: dict[str, TechniqueProbe] = {}


def _names(node: Node) -> str:
    return f"{node.name_zh} {node.name_en}".strip()


def technique_card(graph: KnowledgeGraph, node: Node) -> str:
    measured = [graph.nodes[(NodeKind.PROPERTY, p)] for p, ts in graph.measured_by.items()
                if node.code in ts and (NodeKind.PROPERTY, p) in graph.nodes]
    return (f"{_names(node)}: {'; '.join(node.aliases)}. "
            + "; ".join(_names(p) for p in measured))


def _passages(graph: KnowledgeGraph) -> list[Passage]:
    found: list[Passage] = []
    for prop in graph.of_kind(NodeKind.PROPERTY):
        techniques = dict(graph.measured_by.get(prop.code, {}))
        for (_, p), suggestions in graph.suits.items():
            if p == prop.code:
                for s in suggestions:
                    techniques[s.technique] = max(techniques.get(s.technique, 0.0), s.weight)
        if techniques:
            found.append(Passage(f"{_names(prop)}: {'; '.join(prop.aliases)}", (prop.ref,),
                                 techniques))
    for standard in graph.of_kind(NodeKind.STANDARD):
        techniques = dict(graph.prescribes.get(standard.code, {}))
        if techniques:
            found.append(Passage(f"{standard.code} {_names(standard)}", (standard.ref,),
                                 techniques))
    for (material_code, property_code), suggestions in sorted(graph.suits.items()):
        material = graph.nodes.get((NodeKind.MATERIAL, material_code))
        measured = graph.nodes.get((NodeKind.PROPERTY, property_code))
        if material is None or measured is None:
            continue
        found.append(Passage(
            f"{material.name_zh}的{measured.name_zh} "
            f"({measured.name_en} of {material.name_en.lower()})",
            (material.ref, measured.ref), {s.technique: s.weight for s in suggestions}))
    return found


def _standardise(values: NDArray[np.float64]) -> NDArray[np.float64]:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else values * 0.0


class TechniqueScorer:
    """Everything per graph revision that scoring a need against techniques needs."""

    def __init__(self, graph: KnowledgeGraph, *, card_vectors: NDArray[np.float32],
                 passages: list[Passage], passage_vectors: NDArray[np.float32],
                 example_vectors: NDArray[np.float32]) -> None:
        self.graph = graph
        self.techniques = sorted(n.code for n in graph.of_kind(NodeKind.TECHNIQUE))
        self.position = {code: i for i, code in enumerate(self.techniques)}
        self.examples = example_needs(graph)
        self.example_vectors = example_vectors
        self._example_technique = np.array([self.position[e.technique] for e in self.examples],
                                           dtype=np.int64)
        # Examples come grouped by technique, every technique at least its name: per-technique
        # maxima are then one `reduceat` (np.maximum.at is ten times slower).
        if not np.array_equal(np.unique(self._example_technique), np.arange(len(self.techniques))) \
                or np.any(np.diff(self._example_technique) < 0):
            raise ValueError("example needs must cover every technique, grouped by technique")
        self._example_starts = np.searchsorted(self._example_technique,
                                               np.arange(len(self.techniques)))
        self._example_bm25 = bm25s.BM25()
        self._example_bm25.index([tokenize(e.text) for e in self.examples] or [["_"]],
                                 show_progress=False)
        self.probe = TechniqueProbe.fit(example_vectors, self._example_technique,
                                        len(self.techniques))
        self.recogniser = Recogniser(graph)
        self.card_vectors = card_vectors
        self.passages = passages
        self.passage_vectors = passage_vectors
        weights = np.zeros((len(passages), len(self.techniques)))
        for row, passage in enumerate(passages):
            for code, weight in passage.techniques.items():
                if code in self.position:
                    weights[row, self.position[code]] = weight
        self._passage_weights = weights
        self._passage_log = PASSAGE_WEIGHT_LOG * np.log(np.maximum(weights, 1e-9))
        self._property_techniques: dict[str, dict[str, float]] = defaultdict(dict)
        for passage in passages:
            if len(passage.path) == 1 and passage.path[0][0] is NodeKind.PROPERTY:
                self._property_techniques[passage.path[0][1]] = passage.techniques
        self._material_techniques: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
        for (material, prop), suggestions in graph.suits.items():
            for s in suggestions:
                known = self._material_techniques[material].get(s.technique, (0.0, ""))
                if s.is_core and s.weight > known[0]:
                    self._material_techniques[material][s.technique] = (s.weight, prop)
        self._bm25 = bm25s.BM25()
        self._bm25.index([tokenize(text) for text in self._technique_texts()],
                         show_progress=False)

    @classmethod
    def build(cls, session: Session, graph: KnowledgeGraph, *,
              embedder: Embedder | None = None) -> TechniqueScorer:
        """Embed the technique cards and knowledge passages (stored once per distinct text)."""
        techniques = sorted(graph.of_kind(NodeKind.TECHNIQUE), key=lambda n: n.code)
        passages = _passages(graph)
        examples = example_needs(graph)
        vectors = stored_passages(session, [technique_card(graph, t) for t in techniques]
                                  + [p.text for p in passages] + [e.text for e in examples],
                                  embedder=embedder)
        cards, rest = vectors[:len(techniques)], vectors[len(techniques):]
        return cls(graph, card_vectors=cards, passages=passages,
                   passage_vectors=rest[:len(passages)], example_vectors=rest[len(passages):])

    def _technique_texts(self) -> list[str]:
        texts: dict[str, list[str]] = {code: [] for code in self.techniques}
        for code in self.techniques:
            node = self.graph.nodes[(NodeKind.TECHNIQUE, code)]
            texts[code] += [technique_card(self.graph, node), node.notes, node.sample_types]
        for passage in self.passages:
            for code in passage.techniques:
                if code in texts:
                    texts[code].append(passage.text)
        return [" ".join(texts[code]) for code in self.techniques]

    def bm25(self, need: str) -> NDArray[np.float64]:
        tokens = [t for t in tokenize(need) if t in self._bm25.vocab_dict]
        if not tokens:
            return np.zeros(len(self.techniques))
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)

    def evidence(self, need: str, query_vector: NDArray[np.float32]) -> Evidence:
        """Feature rows (technique × FEATURES) for one need."""
        evidence = self.lexical_evidence(need)
        self.add_semantic_evidence(evidence, query_vector)
        return evidence

    def lexical_evidence(self, need: str) -> Evidence:
        """The features that need only the words: graph mentions and BM25. Split from the
        semantic ones so they can be computed while the query embedding runs."""
        features = np.zeros((len(self.techniques), len(FEATURES)))
        lexical = self.bm25(need)
        features[:, F["bm25"]] = lexical / lexical.max() if lexical.max() > 0 else lexical
        tokens = [t for t in tokenize(need) if t in self._example_bm25.vocab_dict]
        if tokens and self.examples:
            scores = np.asarray(self._example_bm25.get_scores(tokens), dtype=np.float64)
            best = np.maximum.reduceat(scores, self._example_starts)
            features[:, F["example_bm25"]] = best / best.max() if best.max() > 0 else best
        evidence = Evidence(features=features, mentions=self.recogniser.find(need))
        self._graph_features(evidence)
        return evidence

    def add_semantic_evidence(self, evidence: Evidence,
                              query_vector: NDArray[np.float32]) -> None:
        """The features from the need's e5 vector: cards, passages, example needs, probe."""
        features = evidence.features
        # Products in float32, the vectors' own type: a float64 query would make numpy copy
        # every stored matrix to float64 first, which took most of this method's time.
        card = (self.card_vectors @ query_vector).astype(np.float64)
        features[:, F["sem_card"]] = _standardise(card)
        similarity = (self.passage_vectors @ query_vector).astype(np.float64)
        weighted = similarity[:, None] + self._passage_log
        best_rows = weighted.argmax(axis=0)
        best_passage = weighted[best_rows, np.arange(weighted.shape[1])]
        features[:, F["sem_passage"]] = _standardise(np.maximum(best_passage, card))
        attention = np.exp((similarity - similarity.max()) * SPREAD_SHARPNESS)
        spread = attention @ self._passage_weights
        features[:, F["sem_spread"]] = spread / spread.max() if spread.max() > 0 else spread
        self._example_features(query_vector, evidence)
        self._semantic_reasons(evidence, best_rows)

    def _example_features(self, query_vector: NDArray[np.float32], evidence: Evidence) -> None:
        """How close the need is to the example needs of each technique: the closest one, a
        vote of the nearest few, and the probe's belief."""
        if not self.examples:
            return
        features = evidence.features
        similarity = (self.example_vectors @ query_vector).astype(np.float64)
        q = query_vector.astype(np.float64)
        closest = np.maximum.reduceat(similarity, self._example_starts)
        features[:, F["sem_example"]] = _standardise(closest)
        k = min(EXAMPLE_NEIGHBOURS, len(similarity))
        nearest = np.argpartition(-similarity, k - 1)[:k]
        nearest = nearest[np.argsort(-similarity[nearest])]
        votes = np.bincount(
            self._example_technique[nearest], minlength=len(self.techniques),
            weights=np.exp((similarity[nearest] - similarity[nearest[0]]) * EXAMPLE_SHARPNESS))
        features[:, F["example_vote"]] = votes / votes.max()
        features[:, F["probe"]] = self.probe.probabilities(q)
        for row in nearest[:EXAMPLE_NEIGHBOURS // 2]:
            example = self.examples[int(row)]
            if example.is_name:
                continue
            if not any(r.example for r in evidence.reasons.get(example.technique, [])):
                evidence.reasons.setdefault(example.technique, []).append(Reason(
                    ((NodeKind.TECHNIQUE, example.technique),), (), float(similarity[row]),
                    semantic=True, example=example.text))

    def _raise(self, evidence: Evidence, feature: str, technique: str, value: float,
               reason: Reason) -> None:
        row = self.position.get(technique)
        if row is None:
            return
        if value > evidence.features[row, F[feature]]:
            evidence.features[row, F[feature]] = value
        evidence.reasons.setdefault(technique, []).append(reason)

    def _graph_features(self, evidence: Evidence) -> None:
        found: dict[NodeKind, dict[str, tuple[float, list[str]]]] = defaultdict(dict)
        for mention in evidence.mentions:
            kind, code = mention.node
            weight, words = found[kind].get(code, (0.0, []))
            found[kind][code] = (max(weight, mention.weight), [*words, mention.text])
        for code, (weight, words) in found[NodeKind.TECHNIQUE].items():
            self._raise(evidence, "named", code, weight,
                        Reason(((NodeKind.TECHNIQUE, code),), tuple(words), weight))
        materials = found[NodeKind.MATERIAL]
        properties = found[NodeKind.PROPERTY]
        for material, (w_material, m_words) in materials.items():
            for prop, (w_property, p_words) in properties.items():
                for s in self.graph.techniques_for(material, prop):
                    value = w_material * w_property * s.weight * (
                        1.0 if s.is_core else NON_CORE_FACTOR)
                    self._raise(evidence, "material_property", s.technique, value, Reason(
                        ((NodeKind.MATERIAL, material), (NodeKind.PROPERTY, prop),
                         (NodeKind.TECHNIQUE, s.technique)), (*m_words, *p_words), value))
        for prop, (w_property, p_words) in properties.items():
            for technique, weight in self._property_techniques.get(prop, {}).items():
                self._raise(evidence, "property", technique, w_property * weight, Reason(
                    ((NodeKind.PROPERTY, prop), (NodeKind.TECHNIQUE, technique)),
                    tuple(p_words), w_property * weight))
        for standard, (w_standard, s_words) in found[NodeKind.STANDARD].items():
            for technique, weight in self.graph.prescribes.get(standard, {}).items():
                self._raise(evidence, "standard", technique, w_standard * weight, Reason(
                    ((NodeKind.STANDARD, standard), (NodeKind.TECHNIQUE, technique)),
                    tuple(s_words), w_standard * weight))
        for material, (w_material, m_words) in materials.items():
            for technique, (weight, prop) in self._material_techniques.get(material,
                                                                          {}).items():
                value = w_material * weight * MATERIAL_ONLY_FACTOR
                self._raise(evidence, "material", technique, value, Reason(
                    ((NodeKind.MATERIAL, material), (NodeKind.PROPERTY, prop),
                     (NodeKind.TECHNIQUE, technique)), tuple(m_words), value * 0.5))

    def _semantic_reasons(self, evidence: Evidence, best_rows: NDArray[np.intp]) -> None:
        """For each technique, the passage closest to the need (`best_rows`, by technique),
        as a fallback explanation."""
        for code, row in self.position.items():
            passage = self.passages[int(best_rows[row])]
            if code not in passage.techniques:
                continue
            evidence.reasons.setdefault(code, []).append(Reason(
                (*passage.path, (NodeKind.TECHNIQUE, code)), (), 0.0, semantic=True))
