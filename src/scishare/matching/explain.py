"""Explanations: the graph path from the need to the offered technique, and matched words."""

from __future__ import annotations

from scishare.knowledge.graph import KnowledgeGraph, NodeRef
from scishare.matching.techniques import Evidence, Reason

MAX_PATHS = 3
MAX_WORDS = 8
SEMANTIC_MARK = "≈ "


def render_path(graph: KnowledgeGraph, path: tuple[NodeRef, ...], *, lang: str) -> str:
    labels = []
    for ref in path:
        node = graph.node(ref)
        labels.append(node.label(lang) if node else ref[1])
    return " -> ".join(labels)


def explain(graph: KnowledgeGraph, evidence: Evidence, technique: str, *, lang: str,
            instrument_words: list[str]) -> tuple[list[str], list[str]]:
    """Up to three paths (strongest first) and the words of the need that matched.

    A path found only by meaning, not by words, is marked with `≈`.
    """
    reasons: list[Reason] = sorted(evidence.reasons.get(technique, []),
                                   key=lambda r: (r.semantic, -r.strength))
    paths: list[str] = []
    words: list[str] = []
    for reason in reasons:
        if reason.semantic and paths:
            continue
        text = render_path(graph, reason.path, lang=lang)
        if reason.example:
            text = f"「{reason.example}」 -> {text}"
        text = SEMANTIC_MARK + text if reason.semantic else text
        if text not in paths:
            paths.append(text)
        words += [w for w in reason.words if w not in words]
        if len(paths) >= MAX_PATHS:
            break
    words += [w for w in instrument_words if w not in words]
    return paths, words[:MAX_WORDS]
