"""The knowledge graph in memory: nodes, typed weighted links, neighbours and paths.

Built either from a checked seed or from the database (`service.load_graph`); the matcher
keeps one per graph revision. Pure Python, no database access here.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from scishare.knowledge.models import LinkKind, NodeKind

NodeRef = tuple[NodeKind, str]


@dataclass(frozen=True)
class Node:
    kind: NodeKind
    code: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...] = ()
    category: str = ""
    confidence: str = ""
    notes: str = ""
    sample_types: str = ""
    typical_fee: str = ""
    # Techniques only: needs as users phrase them, (zh, en) pairs (see models.ExampleNeed).
    example_needs: tuple[tuple[str, str], ...] = ()

    @property
    def ref(self) -> NodeRef:
        return (self.kind, self.code)

    def label(self, lang: str = "zh") -> str:
        """What an explanation shows: techniques by code, standards by designation."""
        if self.kind in (NodeKind.TECHNIQUE, NodeKind.STANDARD, NodeKind.NATIONAL_CLASS):
            return self.code
        return (self.name_en if lang == "en" else self.name_zh) or self.code


@dataclass(frozen=True)
class Link:
    """A typed link; which code fields are set follows `kind` (see models.KnowledgeLink)."""

    kind: LinkKind
    weight: float
    technique_code: str | None = None
    property_code: str | None = None
    material_code: str | None = None
    standard_code: str | None = None
    industry_code: str | None = None
    class_code: str | None = None
    position: int = 0
    is_core: bool = False
    note: str = ""

    def ends(self) -> list[tuple[NodeRef, NodeRef]]:
        """The graph edges this link stands for (a `suits` triple is a two-step path)."""
        t = (NodeKind.TECHNIQUE, self.technique_code or "")
        p = (NodeKind.PROPERTY, self.property_code or "")
        m = (NodeKind.MATERIAL, self.material_code or "")
        if self.kind is LinkKind.SUITS:
            return [(m, p), (p, t)]
        if self.kind is LinkKind.MEASURES:
            return [(p, t)]
        if self.kind is LinkKind.PRESCRIBES:
            return [((NodeKind.STANDARD, self.standard_code or ""), t)]
        if self.kind is LinkKind.CLASSIFIED_AS:
            return [(t, (NodeKind.NATIONAL_CLASS, self.class_code or ""))]
        source = m if self.material_code else (NodeKind.STANDARD, self.standard_code or "")
        return [(source, (NodeKind.INDUSTRY, self.industry_code or ""))]


@dataclass(frozen=True)
class Neighbour:
    node: Node
    kind: LinkKind
    weight: float


@dataclass(frozen=True)
class Suggestion:
    """A technique answering a (material, property) pair, as the seed ranks it."""

    technique: str
    weight: float
    position: int
    is_core: bool


class KnowledgeGraph:
    """Nodes by (kind, code) and the links between them, indexed for the matcher."""

    def __init__(self, nodes: Iterable[Node], links: Iterable[Link], *,
                 revision: str = "") -> None:
        self.revision = revision
        self.nodes: dict[NodeRef, Node] = {node.ref: node for node in nodes}
        self.links: list[Link] = list(links)
        self.suits: dict[tuple[str, str], list[Suggestion]] = defaultdict(list)
        self.measured_by: dict[str, dict[str, float]] = defaultdict(dict)
        self.prescribes: dict[str, dict[str, float]] = defaultdict(dict)
        self.classes: dict[str, list[str]] = defaultdict(list)
        self._edges: dict[NodeRef, dict[NodeRef, tuple[LinkKind, float]]] = defaultdict(dict)
        for link in self.links:
            self._index(link)
        for suggestions in self.suits.values():
            suggestions.sort(key=lambda s: (s.position, -s.weight))

    def _index(self, link: Link) -> None:
        if link.kind is LinkKind.SUITS and link.material_code and link.property_code:
            self.suits[(link.material_code, link.property_code)].append(Suggestion(
                technique=link.technique_code or "", weight=link.weight,
                position=link.position, is_core=link.is_core))
        elif link.kind is LinkKind.MEASURES and link.property_code and link.technique_code:
            known = self.measured_by[link.property_code].get(link.technique_code, 0.0)
            self.measured_by[link.property_code][link.technique_code] = max(known, link.weight)
        elif link.kind is LinkKind.PRESCRIBES and link.standard_code and link.technique_code:
            self.prescribes[link.standard_code][link.technique_code] = link.weight
        elif link.kind is LinkKind.CLASSIFIED_AS and link.technique_code and link.class_code:
            self.classes[link.technique_code].append(link.class_code)
        for a, b in link.ends():
            for x, y in ((a, b), (b, a)):
                _known_kind, known_weight = self._edges[x].get(y, (link.kind, 0.0))
                if link.weight > known_weight:
                    self._edges[x][y] = (link.kind, link.weight)

    @property
    def fingerprint(self) -> str:
        """A hash of the content (not of row ids): equal graphs share derived indexes."""
        if not hasattr(self, "_fingerprint"):
            digest = hashlib.sha256()
            for node in sorted(self.nodes.values(), key=lambda n: (n.kind.value, n.code)):
                digest.update(repr(node).encode())
            for link in sorted(self.links, key=repr):
                digest.update(repr(link).encode())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def node(self, ref: NodeRef) -> Node | None:
        return self.nodes.get(ref)

    def of_kind(self, kind: NodeKind) -> list[Node]:
        return [node for ref, node in self.nodes.items() if ref[0] is kind]

    def neighbours(self, ref: NodeRef, *, kind: NodeKind | None = None) -> list[Neighbour]:
        """Nodes one link away, strongest link first."""
        found = [Neighbour(node=self.nodes[other], kind=link_kind, weight=weight)
                 for other, (link_kind, weight) in self._edges.get(ref, {}).items()
                 if other in self.nodes and (kind is None or other[0] is kind)]
        return sorted(found, key=lambda n: (-n.weight, n.node.kind.value, n.node.code))

    def shortest_path(self, start: NodeRef, goal: NodeRef) -> list[Node]:
        """Fewest links from `start` to `goal`; among equals, the strongest links.

        Empty when no path exists. Cost per step is 1 plus a small penalty for a weak link, so
        length decides first and weight only breaks ties.
        """
        if start not in self.nodes or goal not in self.nodes:
            return []
        best: dict[NodeRef, float] = {start: 0.0}
        previous: dict[NodeRef, NodeRef] = {}
        queue: list[tuple[float, str, str, NodeRef]] = [(0.0, start[0].value, start[1], start)]
        while queue:
            cost, _, _, here = heapq.heappop(queue)
            if here == goal:
                break
            if cost > best.get(here, float("inf")):
                continue
            for there, (_, weight) in self._edges.get(here, {}).items():
                step = cost + 1.0 + 0.01 * (1.0 - weight)
                if step < best.get(there, float("inf")):
                    best[there] = step
                    previous[there] = here
                    heapq.heappush(queue, (step, there[0].value, there[1], there))
        if goal not in best:
            return []
        path = [goal]
        while path[-1] != start:
            path.append(previous[path[-1]])
        return [self.nodes[ref] for ref in reversed(path)]

    def techniques_for(self, material: str, prop: str) -> list[Suggestion]:
        return self.suits.get((material, prop), [])
