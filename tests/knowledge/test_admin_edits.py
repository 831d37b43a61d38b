"""Platform admins add aliases and links; each records who added it and when."""

from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.accounts.models import Role
from scishare.accounts.service import Actor, actor_for, get_account
from scishare.knowledge.errors import BadLink, DuplicateAlias, DuplicateLink, UnknownNode
from scishare.knowledge.models import LinkKind, NodeKind, Origin
from scishare.knowledge.schemas import AliasCreate, LinkCreate, NodeKey
from scishare.knowledge.service import add_alias, add_link, admin_links, neighbours
from tests.accounts.factories import an_account

pytestmark = pytest.mark.usefixtures("seeded")


def _actor(session: Session, role: Role) -> Actor:
    return actor_for(get_account(session, an_account(session, roles=(role,)).id))


class TestAddAlias:
    def test_records_who_and_when(self, session: Session, now: datetime) -> None:
        admin = _actor(session, Role.PLATFORM_ADMIN)

        alias = add_alias(session, AliasCreate(node=NodeKey(kind=NodeKind.PROPERTY,
                                                            code="HARDNESS"), text="硬不硬"),
                          actor=admin, now=now)

        assert (alias.property_code, alias.origin) == ("HARDNESS", Origin.ADMIN)
        assert (alias.added_by_id, alias.added_at) == (admin.account_id, now)

    def test_rejects_a_word_the_node_already_has(self, session: Session,
                                                 now: datetime) -> None:
        with pytest.raises(DuplicateAlias):
            add_alias(session, AliasCreate(node=NodeKey(kind=NodeKind.TECHNIQUE, code="XRD"),
                                           text="PXRD"),
                      actor=_actor(session, Role.PLATFORM_ADMIN), now=now)

    @pytest.mark.parametrize("role", [Role.DEMANDER, Role.PROVIDER_ADMIN, Role.BUREAU_OFFICER])
    def test_only_platform_admins_edit(self, session: Session, now: datetime,
                                       role: Role) -> None:
        actor = actor_for(get_account(session, an_account(
            session, roles=(role,),
            region_code="410100" if role is Role.BUREAU_OFFICER else None).id))

        with pytest.raises(NotAllowed):
            add_alias(session, AliasCreate(node=NodeKey(kind=NodeKind.TECHNIQUE, code="XRD"),
                                           text="衍射"), actor=actor, now=now)


class TestAddLink:
    def test_new_link_shows_in_the_graph(self, session: Session, now: datetime) -> None:
        admin = _actor(session, Role.PLATFORM_ADMIN)

        link = add_link(session, LinkCreate(kind=LinkKind.PRESCRIBES, standard_code="UL 94",
                                            technique_code="TGA", weight=0.5),
                        actor=admin, now=now)

        assert link.added_by_id == admin.account_id
        assert link.added_at == now
        assert admin_links(session) == [link]
        found = {n.node.code for n in neighbours(
            session, node=NodeKey(kind=NodeKind.STANDARD, code="UL 94"))}
        assert "TGA" in found

    def test_rejects_a_link_to_an_unknown_node(self, session: Session, now: datetime) -> None:
        with pytest.raises(UnknownNode) as caught:
            add_link(session, LinkCreate(kind=LinkKind.MEASURES, technique_code="XRD",
                                         property_code="NOPE"),
                     actor=_actor(session, Role.PLATFORM_ADMIN), now=now)
        assert caught.value.field == "property_code"

    def test_rejects_a_link_missing_an_end(self, session: Session, now: datetime) -> None:
        with pytest.raises(BadLink) as caught:
            add_link(session, LinkCreate(kind=LinkKind.SUITS, material_code="SOIL",
                                         technique_code="XRD"),
                     actor=_actor(session, Role.PLATFORM_ADMIN), now=now)
        assert caught.value.field == "property_code"

    def test_rejects_a_field_the_kind_does_not_take(self, session: Session,
                                                    now: datetime) -> None:
        with pytest.raises(BadLink) as caught:
            add_link(session, LinkCreate(kind=LinkKind.MEASURES, technique_code="XRD",
                                         property_code="PHASE", standard_code="UL 94"),
                     actor=_actor(session, Role.PLATFORM_ADMIN), now=now)
        assert caught.value.field == "standard_code"

    def test_rejects_a_duplicate(self, session: Session, now: datetime) -> None:
        with pytest.raises(DuplicateLink):
            add_link(session, LinkCreate(kind=LinkKind.MEASURES, technique_code="XRD",
                                         property_code="PHASE"),
                     actor=_actor(session, Role.PLATFORM_ADMIN), now=now)
