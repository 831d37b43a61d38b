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
            "property", "standard", "material")
F = {name: i for i, name in enumerate(FEATURES)}
MATERIAL_ONLY_FACTOR = 1.0
NON_CORE_FACTOR = 0.8
SPREAD_SHARPNESS = 100.0
PASSAGE_WEIGHT_LOG = 0.05


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


@dataclass
class Evidence:
    """Feature rows for every technique, plus what is needed to explain any of them."""

    features: NDArray[np.float64]
    mentions: list[Mention]
    reasons: dict[str, list[Reason]] = field(default_factory=dict)


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
                 passages: list[Passage], passage_vectors: NDArray[np.float32]) -> None:
        self.graph = graph
        self.techniques = sorted(n.code for n in graph.of_kind(NodeKind.TECHNIQUE))
        self.position = {code: i for i, code in enumerate(self.techniques)}
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
        vectors = stored_passages(session, [technique_card(graph, t) for t in techniques]
                                  + [p.text for p in passages], embedder=embedder)
        return cls(graph, card_vectors=vectors[:len(techniques)], passages=passages,
                   passage_vectors=vectors[len(techniques):])

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
        features = np.zeros((len(self.techniques), len(FEATURES)))
        q = query_vector.astype(np.float64)
        card = self.card_vectors @ q
        features[:, F["sem_card"]] = _standardise(card)
        similarity = self.passage_vectors @ q
        best_passage = (similarity[:, None] + self._passage_log).max(axis=0)
        features[:, F["sem_passage"]] = _standardise(np.maximum(best_passage, card))
        attention = np.exp((similarity - similarity.max()) * SPREAD_SHARPNESS)
        spread = attention @ self._passage_weights
        features[:, F["sem_spread"]] = spread / spread.max() if spread.max() > 0 else spread
        lexical = self.bm25(need)
        features[:, F["bm25"]] = lexical / lexical.max() if lexical.max() > 0 else lexical
        mentions = self.recogniser.find(need)
        evidence = Evidence(features=features, mentions=mentions)
        self._graph_features(evidence)
        self._semantic_reasons(evidence, similarity)
        return evidence

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

    def _semantic_reasons(self, evidence: Evidence, similarity: NDArray[np.float64]) -> None:
        """For each technique, the passage closest to the need, as a fallback explanation."""
        best = np.argmax(similarity[:, None] + self._passage_log, axis=0)
        for code, row in self.position.items():
            passage = self.passages[int(best[row])]
            if code not in passage.techniques:
                continue
            evidence.reasons.setdefault(code, []).append(Reason(
                (*passage.path, (NodeKind.TECHNIQUE, code)), (), 0.0, semantic=True))
