"""Loading the seed, reading the graph, and the edits platform admins make."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize
from scishare.catalog.service import list_classes, list_techniques
from scishare.knowledge.errors import (
    BadLink,
    DuplicateAlias,
    DuplicateLink,
    KnowledgeImportRejected,
    KnowledgeProblem,
    UnknownNode,
)
from scishare.knowledge.graph import KnowledgeGraph, Link, Node, NodeRef
from scishare.knowledge.models import (
    ExampleNeed,
    KnowledgeAlias,
    KnowledgeIndustry,
    KnowledgeLink,
    KnowledgeMaterial,
    KnowledgeProperty,
    KnowledgeStandard,
    LinkKind,
    NodeKind,
    Origin,
    SeedVersion,
    TechniqueProfile,
)
from scishare.knowledge.schemas import (
    AliasCreate,
    LinkCreate,
    NeighbourRead,
    NodeKey,
    NodeRead,
    SeedVersionRead,
)
from scishare.knowledge.seed import Seed, read_seed

_NODE_TABLES: dict[NodeKind, Any] = {
    NodeKind.PROPERTY: KnowledgeProperty,
    NodeKind.MATERIAL: KnowledgeMaterial,
    NodeKind.INDUSTRY: KnowledgeIndustry,
    NodeKind.STANDARD: KnowledgeStandard,
}
_ALIAS_COLUMN = {NodeKind.TECHNIQUE: "technique_code", NodeKind.PROPERTY: "property_code",
                 NodeKind.MATERIAL: "material_code", NodeKind.INDUSTRY: "industry_code",
                 NodeKind.STANDARD: "standard_code"}
_LINK_CODES = ("technique_code", "property_code", "material_code", "standard_code",
               "industry_code", "class_code")
_REQUIRED = {
    LinkKind.SUITS: ("material_code", "property_code", "technique_code"),
    LinkKind.MEASURES: ("technique_code", "property_code"),
    LinkKind.PRESCRIBES: ("standard_code", "technique_code"),
    LinkKind.CLASSIFIED_AS: ("technique_code", "class_code"),
    LinkKind.SERVES: ("industry_code",),
}
_COLUMN_KIND = {"technique_code": NodeKind.TECHNIQUE, "property_code": NodeKind.PROPERTY,
                "material_code": NodeKind.MATERIAL, "standard_code": NodeKind.STANDARD,
                "industry_code": NodeKind.INDUSTRY, "class_code": NodeKind.NATIONAL_CLASS}


def _authorize_edit(actor: Actor, record: str) -> None:
    authorize(actor, Action.EDIT_KNOWLEDGE, Target(), record=record)


# Importing the seed ------------------------------------------------------------------------

def current_version(session: Session) -> SeedVersion | None:
    return session.scalars(select(SeedVersion).order_by(SeedVersion.version.desc())
                           .limit(1)).first()


def _admin_references(session: Session, kind: NodeKind, codes: set[str]) -> list[str]:
    """Admin-added aliases and links that point at any of `codes` (which a seed would drop)."""
    if not codes:
        return []
    column = _ALIAS_COLUMN[kind]
    found = [f"admin alias {a.text!r}" for a in session.scalars(select(KnowledgeAlias).where(
        KnowledgeAlias.origin == Origin.ADMIN, getattr(KnowledgeAlias, column).in_(codes)))]
    found += [f"admin link #{link.id}" for link in session.scalars(select(KnowledgeLink).where(
        KnowledgeLink.origin == Origin.ADMIN, getattr(KnowledgeLink, column).in_(codes)))]
    return found


def _problems_against_database(session: Session, seed: Seed) -> list[KnowledgeProblem]:
    problems: list[KnowledgeProblem] = []
    catalog = {t.code for t in list_techniques(session)}
    for node in seed.nodes[NodeKind.TECHNIQUE]:
        if node.code not in catalog:
            file, row = seed.rows[(NodeKind.TECHNIQUE, node.code)]
            problems.append(KnowledgeProblem(
                file, row, "code", f"technique {node.code} is not in the catalog's technique "
                "vocabulary (the catalog loads it at `scishare db upgrade`)"))
    for kind, table in _NODE_TABLES.items():
        stored = set(session.scalars(select(table.code)))
        dropped = stored - seed.codes(kind)
        for reference in _admin_references(session, kind, dropped):
            problems.append(KnowledgeProblem(
                f"{kind.value} file", 0, "code",
                f"the seed drops a {kind.value} still used by {reference}"))
    return problems


def import_seed(session: Session, *, actor: Actor, now: datetime,
                directory: Path | None = None, force: bool = False) -> SeedVersionRead:
    """Load the seed as a new version: all or nothing, and a no-op when the content is unchanged.

    Seed rows from the previous version are replaced; aliases and links platform admins added
    are kept. Any bad reference — in the files, to the catalog's vocabulary, or a node dropped
    while an admin link still uses it — rejects the whole seed before anything is written.
    """
    _authorize_edit(actor, "knowledge import")
    seed = read_seed(directory, class_codes={c.code for c in list_classes(session)})
    problems = _problems_against_database(session, seed)
    if problems:
        raise KnowledgeImportRejected(problems)
    latest = current_version(session)
    if latest is not None and latest.checksum == seed.checksum and not force:
        return SeedVersionRead.model_validate(latest).model_copy(update={"changed": False})

    session.execute(delete(KnowledgeLink).where(KnowledgeLink.origin == Origin.SEED))
    session.execute(delete(KnowledgeAlias).where(KnowledgeAlias.origin == Origin.SEED))
    session.execute(delete(ExampleNeed).where(ExampleNeed.origin == Origin.SEED))
    for kind, table in _NODE_TABLES.items():
        wanted = {node.code: node for node in seed.nodes[kind]}
        stored = {row.code: row for row in session.scalars(select(table))}
        for code in set(stored) - set(wanted):
            session.delete(stored[code])
        for code, node in wanted.items():
            values = _node_values(node)
            if code in stored:
                for key, value in values.items():
                    setattr(stored[code], key, value)
            else:
                session.add(table(code=code, **values))
    profiles = {p.technique_code: p for p in session.scalars(select(TechniqueProfile))}
    for node in seed.nodes[NodeKind.TECHNIQUE]:
        profile = profiles.get(node.code) or TechniqueProfile(technique_code=node.code)
        profile.sample_types, profile.typical_fee, profile.notes = (
            node.sample_types, node.typical_fee, node.notes)
        session.add(profile)
    session.flush()

    admin_aliases = {(getattr(a, _ALIAS_COLUMN[kind]), kind, a.text)
                     for a in session.scalars(select(KnowledgeAlias))
                     for kind in _ALIAS_COLUMN if getattr(a, _ALIAS_COLUMN[kind])}
    alias_rows = [{_ALIAS_COLUMN[node.kind]: node.code, "text": text, "origin": Origin.SEED,
                   "added_by_id": None, "added_at": now}
                  for nodes in seed.nodes.values() for node in nodes
                  for text in node.aliases if (node.code, node.kind, text) not in admin_aliases]
    link_rows = [{**{c: getattr(link, c) for c in _LINK_CODES}, "kind": link.kind,
                  "weight": link.weight, "position": link.position, "is_core": link.is_core,
                  "note": link.note, "origin": Origin.SEED, "added_by_id": None,
                  "added_at": now} for link in seed.links]
    need_rows = [{"technique_code": node.code, "text_zh": zh, "text_en": en,
                  "origin": Origin.SEED, "added_by_id": None, "added_at": now}
                 for node in seed.nodes[NodeKind.TECHNIQUE] for zh, en in node.example_needs]
    for model, rows in ((KnowledgeAlias, alias_rows), (KnowledgeLink, link_rows),
                        (ExampleNeed, need_rows)):
        for start in range(0, len(rows), 1000):
            session.execute(insert(model), rows[start:start + 1000])
    version = SeedVersion(version=(latest.version + 1) if latest else 1,
                          checksum=seed.checksum, source=seed.source[-256:], loaded_at=now,
                          loaded_by_id=actor.account_id or None,
                          summary=json.dumps(seed.summary(), sort_keys=True))
    session.add(version)
    session.flush()
    return SeedVersionRead.model_validate(version)


def _node_values(node: Node) -> dict[str, str]:
    if node.kind is NodeKind.STANDARD:
        return {"title_zh": node.name_zh, "title_en": node.name_en,
                "confidence": node.confidence, "notes": node.notes}
    values = {"name_zh": node.name_zh, "name_en": node.name_en}
    if node.kind is NodeKind.PROPERTY:
        values["category"] = node.category
    return values


# Reading the graph -------------------------------------------------------------------------

def graph_revision(session: Session) -> str:
    """Changes whenever the seed version, an alias or a link changes; keys the graph cache."""
    version = session.scalar(select(func.max(SeedVersion.version))) or 0
    links = session.execute(select(func.count(), func.max(KnowledgeLink.id))).one()
    aliases = session.execute(select(func.count(), func.max(KnowledgeAlias.id))).one()
    needs = session.execute(select(func.count(), func.max(ExampleNeed.id))).one()
    return (f"v{version}:l{links[0]}-{links[1]}:a{aliases[0]}-{aliases[1]}"
            f":n{needs[0]}-{needs[1]}")


def _read_graph(session: Session, revision: str) -> KnowledgeGraph:
    aliases: dict[NodeRef, list[str]] = defaultdict(list)
    for alias in session.scalars(select(KnowledgeAlias).order_by(KnowledgeAlias.id)):
        for kind, column in _ALIAS_COLUMN.items():
            code = getattr(alias, column)
            if code:
                aliases[(kind, code)].append(alias.text)
    profiles = {p.technique_code: p for p in session.scalars(select(TechniqueProfile))}
    needs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for need in session.scalars(select(ExampleNeed).order_by(ExampleNeed.id)):
        needs[need.technique_code].append((need.text_zh, need.text_en))
    nodes: list[Node] = []
    for technique in list_techniques(session):
        profile = profiles.get(technique.code)
        nodes.append(Node(
            kind=NodeKind.TECHNIQUE, code=technique.code, name_zh=technique.name_zh,
            name_en=technique.name_en, aliases=tuple(aliases[(NodeKind.TECHNIQUE,
                                                              technique.code)]),
            sample_types=profile.sample_types if profile else "",
            typical_fee=profile.typical_fee if profile else "",
            notes=profile.notes if profile else "",
            example_needs=tuple(needs[technique.code])))
    nodes += [Node(kind=NodeKind.NATIONAL_CLASS, code=c.code, name_zh=c.name_zh,
                   name_en=c.name_en) for c in list_classes(session)]
    for prop in session.scalars(select(KnowledgeProperty)):
        nodes.append(Node(kind=NodeKind.PROPERTY, code=prop.code, name_zh=prop.name_zh,
                          name_en=prop.name_en, category=prop.category,
                          aliases=tuple(aliases[(NodeKind.PROPERTY, prop.code)])))
    for material in session.scalars(select(KnowledgeMaterial)):
        nodes.append(Node(kind=NodeKind.MATERIAL, code=material.code, name_zh=material.name_zh,
                          name_en=material.name_en,
                          aliases=tuple(aliases[(NodeKind.MATERIAL, material.code)])))
    for industry in session.scalars(select(KnowledgeIndustry)):
        nodes.append(Node(kind=NodeKind.INDUSTRY, code=industry.code, name_zh=industry.name_zh,
                          name_en=industry.name_en,
                          aliases=tuple(aliases[(NodeKind.INDUSTRY, industry.code)])))
    for standard in session.scalars(select(KnowledgeStandard)):
        nodes.append(Node(kind=NodeKind.STANDARD, code=standard.code,
                          name_zh=standard.title_zh, name_en=standard.title_en,
                          confidence=standard.confidence, notes=standard.notes,
                          aliases=tuple(aliases[(NodeKind.STANDARD, standard.code)])))
    links = [Link(kind=LinkKind(row.kind), weight=row.weight, position=row.position,
                  is_core=row.is_core, note=row.note,
                  **{c: getattr(row, c) for c in _LINK_CODES})
             for row in session.scalars(select(KnowledgeLink).order_by(KnowledgeLink.id))]
    return KnowledgeGraph(nodes, links, revision=revision)


_cache: dict[str, KnowledgeGraph] = {}
_cache_lock = Lock()


def load_graph(session: Session) -> KnowledgeGraph:
    """The graph as stored, rebuilt only when its revision changes."""
    revision = graph_revision(session)
    with _cache_lock:
        graph = _cache.get(revision)
    if graph is None:
        graph = _read_graph(session, revision)
        with _cache_lock:
            _cache.clear()
            _cache[revision] = graph
    return graph


def require_loaded(session: Session) -> None:
    """Raise unless a seed has been imported; matching without the graph would be blind."""
    if current_version(session) is None:
        raise UnknownNode("the knowledge graph is empty: run `scishare knowledge import`",
                          record="knowledge graph")


def _node_read(node: Node) -> NodeRead:
    return NodeRead(kind=node.kind, code=node.code, name_zh=node.name_zh,
                    name_en=node.name_en, aliases=list(node.aliases))


def _known(graph: KnowledgeGraph, key: NodeKey) -> Node:
    node = graph.node((key.kind, key.code))
    if node is None:
        raise UnknownNode(f"no {key.kind.value} {key.code}", record=f"{key.kind.value} "
                          f"{key.code}", field="code")
    return node


def get_node(session: Session, key: NodeKey) -> NodeRead:
    return _node_read(_known(load_graph(session), key))


def list_nodes(session: Session, *, kind: NodeKind) -> list[NodeRead]:
    return [_node_read(n) for n in sorted(load_graph(session).of_kind(kind),
                                          key=lambda n: n.code)]


def neighbours(session: Session, *, node: NodeKey,
               kind: NodeKind | None = None) -> list[NeighbourRead]:
    """Nodes one link away from `node`, strongest link first."""
    graph = load_graph(session)
    _known(graph, node)
    return [NeighbourRead(node=_node_read(n.node), link=n.kind, weight=n.weight)
            for n in graph.neighbours((node.kind, node.code), kind=kind)]


def explanation_path(session: Session, *, start: NodeKey, goal: NodeKey) -> list[NodeRead]:
    """The shortest chain of links from `start` to `goal` (empty when they are not connected)."""
    graph = load_graph(session)
    _known(graph, start)
    _known(graph, goal)
    return [_node_read(n) for n in graph.shortest_path((start.kind, start.code),
                                                       (goal.kind, goal.code))]


# Admin edits ------------------------------------------------------------------------------

def add_alias(session: Session, data: AliasCreate, *, actor: Actor,
              now: datetime) -> KnowledgeAlias:
    """Add a word users type for a node; recorded with who added it and when."""
    record = f"alias {data.text!r}"
    _authorize_edit(actor, record)
    if data.node.kind is NodeKind.NATIONAL_CLASS:
        raise BadLink("national classes take no aliases", record=record, field="node")
    node = _known(load_graph(session), data.node)
    text = data.text.strip()
    if not text:
        raise BadLink("empty alias", record=record, field="text")
    if text in node.aliases or text in (node.name_zh, node.name_en):
        raise DuplicateAlias(f"{node.code} already has {text!r}", record=record, field="text")
    alias = KnowledgeAlias(**{_ALIAS_COLUMN[node.kind]: node.code}, text=text,
                           origin=Origin.ADMIN, added_by_id=actor.account_id or None,
                           added_at=now)
    session.add(alias)
    session.flush()
    return alias


def add_link(session: Session, data: LinkCreate, *, actor: Actor,
             now: datetime) -> KnowledgeLink:
    """Add a typed link between existing nodes; recorded with who added it and when."""
    record = f"{data.kind.value} link"
    _authorize_edit(actor, record)
    graph = load_graph(session)
    codes = {c: getattr(data, c) for c in _LINK_CODES}
    needed = _REQUIRED[data.kind]
    for column in needed:
        if not codes[column]:
            raise BadLink(f"a {data.kind.value} link needs {column}", record=record,
                          field=column)
    if data.kind is LinkKind.SERVES and not (codes["material_code"] or codes["standard_code"]):
        raise BadLink("a serves link needs a material or a standard", record=record,
                      field="material_code")
    for column, code in codes.items():
        if code and column not in needed and not (
                data.kind is LinkKind.SERVES and column in ("material_code", "standard_code")):
            raise BadLink(f"a {data.kind.value} link takes no {column}", record=record,
                          field=column)
        if code and graph.node((_COLUMN_KIND[column], code)) is None:
            raise UnknownNode(f"no {_COLUMN_KIND[column].value} {code}", record=record,
                              field=column)
    same = select(KnowledgeLink.id).where(KnowledgeLink.kind == data.kind, *[
        getattr(KnowledgeLink, c) == v if v else getattr(KnowledgeLink, c).is_(None)
        for c, v in codes.items()])
    if session.scalar(same) is not None:
        raise DuplicateLink("this link exists already", record=record, field="kind")
    link = KnowledgeLink(kind=data.kind, **codes, weight=data.weight, position=data.position,
                         is_core=data.is_core, note=data.note, origin=Origin.ADMIN,
                         added_by_id=actor.account_id or None, added_at=now)
    session.add(link)
    session.flush()
    return link


def admin_links(session: Session) -> list[KnowledgeLink]:
    """Links platform admins added, newest first."""
    return list(session.scalars(select(KnowledgeLink).where(
        KnowledgeLink.origin == Origin.ADMIN).order_by(KnowledgeLink.id.desc())))


def admin_aliases(session: Session) -> list[KnowledgeAlias]:
    return list(session.scalars(select(KnowledgeAlias).where(
        KnowledgeAlias.origin == Origin.ADMIN).order_by(KnowledgeAlias.id.desc())))
