"""Graph queries: neighbours and the shortest explanation path."""

import pytest
from sqlalchemy.orm import Session

from scishare.knowledge.errors import UnknownNode
from scishare.knowledge.models import LinkKind, NodeKind
from scishare.knowledge.schemas import NodeKey, SeedVersionRead
from scishare.knowledge.service import explanation_path, get_node, list_nodes, neighbours

PHASE = NodeKey(kind=NodeKind.PROPERTY, code="PHASE")
CATHODE = NodeKey(kind=NodeKind.MATERIAL, code="LIB_CATHODE")
XRD = NodeKey(kind=NodeKind.TECHNIQUE, code="XRD")


@pytest.mark.usefixtures("seeded")
class TestNeighbours:
    def test_property_leads_to_the_techniques_that_measure_it(self, session: Session) -> None:
        found = neighbours(session, node=PHASE, kind=NodeKind.TECHNIQUE)

        codes = [n.node.code for n in found]
        assert {"XRD", "NEUTRON_DIFF", "RAMAN"} <= set(codes)
        assert all(n.node.kind is NodeKind.TECHNIQUE for n in found)
        assert [n.weight for n in found] == sorted((n.weight for n in found), reverse=True)

    def test_technique_knows_its_class_and_standards(self, session: Session) -> None:
        found = {(n.node.kind, n.node.code): n.link
                 for n in neighbours(session, node=NodeKey(kind=NodeKind.TECHNIQUE, code="BET"))}

        assert found[(NodeKind.NATIONAL_CLASS, "0205")] is LinkKind.CLASSIFIED_AS
        assert found[(NodeKind.STANDARD, "GB/T 19587")] is LinkKind.PRESCRIBES

    def test_unknown_node_is_not_found(self, session: Session) -> None:
        with pytest.raises(UnknownNode) as caught:
            neighbours(session, node=NodeKey(kind=NodeKind.MATERIAL, code="NOPE"))
        assert caught.value.field == "code"

    def test_nodes_carry_their_aliases(self, session: Session) -> None:
        xrd = get_node(session, XRD)

        assert "PXRD" in xrd.aliases
        assert xrd.name_zh == "粉末X射线衍射"
        assert len(list_nodes(session, kind=NodeKind.INDUSTRY)) == 24


@pytest.mark.usefixtures("seeded")
class TestExplanationPath:
    def test_material_to_technique_goes_through_the_property(self, session: Session) -> None:
        path = explanation_path(session, start=CATHODE, goal=XRD)

        assert [n.code for n in path] == ["LIB_CATHODE", "PHASE", "XRD"]

    def test_path_reaches_the_national_class(self, session: Session) -> None:
        path = explanation_path(session, start=NodeKey(kind=NodeKind.STANDARD,
                                                        code="GB/T 19587"),
                                goal=NodeKey(kind=NodeKind.NATIONAL_CLASS, code="0205"))

        assert next(n.code for n in path) == "GB/T 19587"
        assert [n.code for n in path][-1] == "0205"
        assert len(path) == 3

    def test_a_node_is_its_own_path(self, session: Session) -> None:
        assert [n.code for n in explanation_path(session, start=XRD, goal=XRD)] == ["XRD"]


def test_graph_is_empty_before_the_seed_is_imported(session: Session) -> None:
    assert neighbours(session, node=XRD) == []


def test_seed_fixture_version(seeded: SeedVersionRead) -> None:
    assert seeded.version == 1
