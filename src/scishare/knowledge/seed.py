"""Reading and checking the knowledge seed: seven CSVs in one folder.

`read_seed` never touches the database. It returns every node and link of the seed, or raises
`KnowledgeImportRejected` listing each bad reference by file, row and field (the header is
row 1, the first record row 2), so that an import can refuse the whole seed before it writes.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from scishare.core.reference import data_path, split_list
from scishare.knowledge.errors import KnowledgeImportRejected, KnowledgeProblem
from scishare.knowledge.graph import KnowledgeGraph, Link, Node
from scishare.knowledge.models import LinkKind, NodeKind

FILES: dict[str, tuple[str, ...]] = {
    "techniques.csv": ("code", "name_zh", "name_en", "aliases", "class_codes", "measures",
                       "sample_types", "typical_fee_cny", "notes"),
    "properties.csv": ("code", "name_zh", "name_en", "aliases", "category"),
    "materials.csv": ("code", "name_zh", "name_en", "aliases", "industry_codes"),
    "industries.csv": ("code", "name_zh", "name_en"),
    "standards.csv": ("code", "title_zh", "title_en", "technique_codes", "industry_codes",
                      "confidence", "notes"),
    "material_property_technique.csv": ("material_code", "property_code", "technique_codes",
                                        "core", "notes"),
    # SciShare's own: needs as users phrase them, per technique (not in shared/domain).
    "technique_needs.csv": ("technique_code", "need_zh", "need_en"),
}
PLURAL = {NodeKind.TECHNIQUE: "techniques", NodeKind.PROPERTY: "properties",
          NodeKind.MATERIAL: "materials", NodeKind.INDUSTRY: "industries",
          NodeKind.STANDARD: "standards", NodeKind.NATIONAL_CLASS: "national_classes"}
CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
CONFIDENCE_WEIGHT = {"high": 1.0, "medium": 0.7, "low": 0.4}
MAX_ALIAS = 128
MAX_NEED_ZH = 200
MAX_NEED_EN = 400


def default_seed_dir() -> Path:
    """The seed shipped inside the package: a copy of shared/domain/knowledge plus
    `technique_needs.csv`."""
    return data_path("knowledge")


@dataclass
class Seed:
    nodes: dict[NodeKind, list[Node]] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    checksum: str = ""
    source: str = ""
    # Where each node was defined, to report problems found later (against the database).
    rows: dict[tuple[NodeKind, str], tuple[str, int]] = field(default_factory=dict)

    def codes(self, kind: NodeKind) -> set[str]:
        return {node.code for node in self.nodes.get(kind, [])}

    def graph(self) -> KnowledgeGraph:
        """The seed as a graph (national classes as bare codes), without a database."""
        nodes = [node for kind_nodes in self.nodes.values() for node in kind_nodes]
        nodes += [Node(kind=NodeKind.NATIONAL_CLASS, code=c, name_zh=c, name_en=c)
                  for c in {link.class_code for link in self.links if link.class_code}]
        return KnowledgeGraph(nodes, self.links, revision=self.checksum)

    def summary(self) -> dict[str, int]:
        counts = {PLURAL[kind]: len(nodes) for kind, nodes in self.nodes.items()}
        counts["aliases"] = sum(len(n.aliases) for ns in self.nodes.values() for n in ns)
        counts["links"] = len(self.links)
        counts["example_needs"] = sum(len(n.example_needs)
                                      for n in self.nodes.get(NodeKind.TECHNIQUE, []))
        return counts


class _Reader:
    """Collects problems while the files are read; every check goes through `problem`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[KnowledgeProblem] = []

    def problem(self, file: str, row: int, column: str, reason: str) -> None:
        self.problems.append(KnowledgeProblem(file=file, row=row, field=column, reason=reason))

    def rows(self, file: str) -> list[tuple[int, dict[str, str]]]:
        path = self.directory / file
        if not path.is_file():
            self.problem(file, 0, "file", "missing")
            return []
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                missing = [c for c in FILES[file] if c not in (reader.fieldnames or [])]
                for column in missing:
                    self.problem(file, 1, column, "column missing from the header")
                if missing:
                    return []
                return [(number, {k: (v or "").strip() for k, v in row.items() if k})
                        for number, row in enumerate(reader, start=2)]
        except UnicodeDecodeError:
            self.problem(file, 0, "file", "not UTF-8 text")
            return []

    def text(self, file: str, number: int, row: dict[str, str], column: str, *,
             required: bool = True, limit: int = 400) -> str:
        value = row.get(column, "")
        if required and not value:
            self.problem(file, number, column, "empty")
        if len(value) > limit:
            self.problem(file, number, column, f"longer than {limit} characters")
        return value

    def aliases(self, file: str, number: int, row: dict[str, str]) -> tuple[str, ...]:
        found: list[str] = []
        for alias in split_list(row.get("aliases")):
            if len(alias) > MAX_ALIAS:
                self.problem(file, number, "aliases",
                             f"alias {alias[:20]!r}… longer than {MAX_ALIAS} characters")
            elif alias not in found:
                found.append(alias)
        return tuple(found)

    def references(self, file: str, number: int, column: str, codes: Iterable[str],
                   known: set[str], what: str) -> list[str]:
        good: list[str] = []
        for code in codes:
            if code in known:
                good.append(code)
            else:
                self.problem(file, number, column, f"unknown {what} {code}")
        return good


def _checksum(directory: Path) -> str:
    digest = hashlib.sha256()
    for file in FILES:
        path = directory / file
        digest.update(file.encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def read_seed(directory: Path | None = None, *, class_codes: set[str]) -> Seed:
    """Read and check the six seed files; raise KnowledgeImportRejected listing every problem.

    `class_codes` are the national classes the catalog knows; techniques may only be
    classified into those.
    """
    directory = directory or default_seed_dir()
    reader = _Reader(directory)
    seed = Seed(checksum=_checksum(directory), source=str(directory))
    tables = {file: reader.rows(file) for file in FILES}

    def nodes(file: str, kind: NodeKind, build: Callable[[int, dict[str, str]], Node]
              ) -> None:
        found: list[Node] = []
        for number, row in tables[file]:
            code = row.get("code", "")
            if kind is not NodeKind.STANDARD and code and not CODE.match(code):
                reader.problem(file, number, "code",
                               f"{code!r} is not an upper-case code (A-Z, 0-9, _)")
                continue
            if (kind, code) in seed.rows:
                reader.problem(file, number, "code", f"{code} defined twice")
                continue
            node = build(number, row)
            if node.code:
                seed.rows[(kind, code)] = (file, number)
                found.append(node)
        seed.nodes[kind] = found

    def named(file: str, kind: NodeKind) -> Callable[[int, dict[str, str]], Node]:
        def build(number: int, row: dict[str, str]) -> Node:
            return Node(
                kind=kind, code=reader.text(file, number, row, "code", limit=32),
                name_zh=reader.text(file, number, row, "name_zh", limit=128),
                name_en=reader.text(file, number, row, "name_en", limit=200),
                aliases=reader.aliases(file, number, row) if "aliases" in row else (),
                category=row.get("category", ""))
        return build

    nodes("industries.csv", NodeKind.INDUSTRY, named("industries.csv", NodeKind.INDUSTRY))
    nodes("properties.csv", NodeKind.PROPERTY, named("properties.csv", NodeKind.PROPERTY))
    nodes("materials.csv", NodeKind.MATERIAL, named("materials.csv", NodeKind.MATERIAL))

    def technique(number: int, row: dict[str, str]) -> Node:
        base = named("techniques.csv", NodeKind.TECHNIQUE)(number, row)
        return Node(
            kind=NodeKind.TECHNIQUE, code=base.code, name_zh=base.name_zh,
            name_en=base.name_en, aliases=base.aliases,
            sample_types=reader.text("techniques.csv", number, row, "sample_types",
                                     required=False, limit=256),
            typical_fee=reader.text("techniques.csv", number, row, "typical_fee_cny",
                                    required=False, limit=128),
            notes=reader.text("techniques.csv", number, row, "notes", required=False))

    nodes("techniques.csv", NodeKind.TECHNIQUE, technique)

    def standard(number: int, row: dict[str, str]) -> Node:
        file = "standards.csv"
        title_zh = reader.text(file, number, row, "title_zh", required=False, limit=256)
        title_en = reader.text(file, number, row, "title_en", required=False)
        if not (title_zh or title_en):
            reader.problem(file, number, "title_zh", "a standard needs a title")
        confidence = row.get("confidence", "")
        if confidence not in CONFIDENCE_WEIGHT:
            reader.problem(file, number, "confidence",
                           f"{confidence!r} is not one of {', '.join(CONFIDENCE_WEIGHT)}")
        return Node(kind=NodeKind.STANDARD,
                        code=reader.text(file, number, row, "code", limit=64),
                        name_zh=title_zh, name_en=title_en, confidence=confidence,
                        notes=reader.text(file, number, row, "notes", required=False))

    nodes("standards.csv", NodeKind.STANDARD, standard)

    techniques = seed.codes(NodeKind.TECHNIQUE)
    properties = seed.codes(NodeKind.PROPERTY)
    materials = seed.codes(NodeKind.MATERIAL)
    industries = seed.codes(NodeKind.INDUSTRY)
    links = seed.links

    for number, row in tables["techniques.csv"]:
        code = row.get("code", "")
        if code not in techniques:
            continue
        classes = reader.references("techniques.csv", number, "class_codes",
                                    split_list(row.get("class_codes")), class_codes,
                                    "national class code")
        links.extend(Link(kind=LinkKind.CLASSIFIED_AS, technique_code=code,
                              class_code=c, weight=1.0, position=i)
                     for i, c in enumerate(classes))
        measured = reader.references("techniques.csv", number, "measures",
                                     split_list(row.get("measures")), properties,
                                     "property code")
        links.extend(Link(kind=LinkKind.MEASURES, technique_code=code, property_code=p,
                              weight=round(1 / (1 + i), 4), position=i)
                     for i, p in enumerate(measured))

    for number, row in tables["materials.csv"]:
        code = row.get("code", "")
        if code not in materials:
            continue
        for i, industry in enumerate(reader.references(
                "materials.csv", number, "industry_codes", split_list(row.get("industry_codes")),
                industries, "industry code")):
            links.append(Link(kind=LinkKind.SERVES, material_code=code,
                                  industry_code=industry, weight=1.0, position=i))

    confidence_of = {n.code: n.confidence for n in seed.nodes[NodeKind.STANDARD]}
    for number, row in tables["standards.csv"]:
        code = row.get("code", "")
        if code not in confidence_of:
            continue
        prescribed = split_list(row.get("technique_codes"))
        if not prescribed:
            reader.problem("standards.csv", number, "technique_codes", "empty")
        weight = CONFIDENCE_WEIGHT.get(confidence_of[code], 1.0)
        for i, technique_code in enumerate(reader.references(
                "standards.csv", number, "technique_codes", prescribed, techniques,
                "technique code")):
            links.append(Link(kind=LinkKind.PRESCRIBES, standard_code=code,
                                  technique_code=technique_code, weight=weight, position=i))
        for i, industry in enumerate(reader.references(
                "standards.csv", number, "industry_codes", split_list(row.get("industry_codes")),
                industries, "industry code")):
            links.append(Link(kind=LinkKind.SERVES, standard_code=code,
                                  industry_code=industry, weight=1.0, position=i))

    file = "material_property_technique.csv"
    seen_pairs: set[tuple[str, str]] = set()
    for number, row in tables[file]:
        material = row.get("material_code", "")
        prop = row.get("property_code", "")
        ok = bool(reader.references(file, number, "material_code", [material], materials,
                                    "material code"))
        ok = bool(reader.references(file, number, "property_code", [prop], properties,
                                    "property code")) and ok
        core = row.get("core", "")
        if core not in {"yes", "no"}:
            reader.problem(file, number, "core", f"{core!r} is not yes or no")
        listed = split_list(row.get("technique_codes"))
        if not listed:
            reader.problem(file, number, "technique_codes", "empty")
        answers = reader.references(file, number, "technique_codes", listed, techniques,
                                    "technique code")
        if (material, prop) in seen_pairs:
            reader.problem(file, number, "property_code",
                           f"{material} × {prop} already listed above")
            continue
        seen_pairs.add((material, prop))
        if not ok:
            continue
        note = reader.text(file, number, row, "notes", required=False, limit=256)
        links.extend(Link(kind=LinkKind.SUITS, material_code=material, property_code=prop,
                              technique_code=t, weight=round(1 / (1 + i), 4), position=i,
                              is_core=core == "yes", note=note)
                     for i, t in enumerate(answers))

    file = "technique_needs.csv"
    needs: dict[str, list[tuple[str, str]]] = {}
    for number, row in tables[file]:
        code = row.get("technique_code", "")
        text_zh = reader.text(file, number, row, "need_zh", limit=MAX_NEED_ZH)
        text_en = reader.text(file, number, row, "need_en", limit=MAX_NEED_EN)
        if reader.references(file, number, "technique_code", [code], techniques,
                             "technique code") and text_zh and text_en:
            if (text_zh, text_en) in needs.get(code, []):
                reader.problem(file, number, "need_zh", f"listed twice for {code}")
                continue
            needs.setdefault(code, []).append((text_zh, text_en))
    seed.nodes[NodeKind.TECHNIQUE] = [
        replace(node, example_needs=tuple(needs.get(node.code, ())))
        for node in seed.nodes[NodeKind.TECHNIQUE]]

    if reader.problems:
        raise KnowledgeImportRejected(reader.problems)
    return seed
