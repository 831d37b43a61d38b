"""Importing the seed: versioned, reloadable, all or nothing."""

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.accounts.models import Role
from scishare.accounts.service import SYSTEM, actor_for, get_account
from scishare.knowledge.errors import KnowledgeImportRejected
from scishare.knowledge.models import (
    ExampleNeed,
    KnowledgeAlias,
    KnowledgeLink,
    KnowledgeMaterial,
    LinkKind,
    NodeKind,
    Origin,
    SeedVersion,
)
from scishare.knowledge.schemas import AliasCreate, LinkCreate, NodeKey, SeedVersionRead
from scishare.knowledge.seed import default_seed_dir
from scishare.knowledge.service import add_alias, add_link, import_seed
from tests.accounts.factories import an_account


def _counts(session: Session) -> tuple[int, int, int, int]:
    return (session.scalar(select(func.count()).select_from(KnowledgeLink)) or 0,
            session.scalar(select(func.count()).select_from(KnowledgeAlias)) or 0,
            session.scalar(select(func.count()).select_from(KnowledgeMaterial)) or 0,
            session.scalar(select(func.count()).select_from(SeedVersion)) or 0)


def _copy_seed(tmp_path: Path) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(default_seed_dir(), target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


class TestImportSeed:
    def test_loads_every_file_as_version_one(self, session: Session,
                                             seeded: SeedVersionRead) -> None:
        _links, aliases, materials, versions = _counts(session)

        assert seeded.version == 1
        assert seeded.changed
        assert materials == 53
        assert versions == 1
        assert aliases > 2000
        kinds = dict(session.execute(select(KnowledgeLink.kind, func.count())
                                     .group_by(KnowledgeLink.kind)).all())
        assert set(kinds) == set(LinkKind)
        assert '"techniques": 125' in seeded.summary
        needs = session.execute(select(ExampleNeed.technique_code, func.count())
                                .group_by(ExampleNeed.technique_code)).all()
        assert len(needs) == 125, "every technique has example needs"
        assert min(count for _, count in needs) >= 10

    def test_same_content_again_changes_nothing(self, session: Session, now: datetime,
                                                seeded: SeedVersionRead) -> None:
        before = _counts(session)

        again = import_seed(session, actor=SYSTEM, now=now + timedelta(hours=1))

        assert not again.changed
        assert again.version == seeded.version
        assert _counts(session) == before

    def test_forced_reload_makes_a_new_version_with_the_same_graph(
            self, session: Session, now: datetime, seeded: SeedVersionRead) -> None:
        before = _counts(session)

        again = import_seed(session, actor=SYSTEM, now=now, force=True)

        assert again.version == 2
        assert _counts(session)[:3] == before[:3]

    def test_reload_keeps_what_admins_added(self, session: Session, now: datetime,
                                            seeded: SeedVersionRead, tmp_path: Path) -> None:
        add_alias(session, AliasCreate(node=NodeKey(kind=NodeKind.TECHNIQUE, code="XRD"),
                                       text="衍射仪测试"), actor=SYSTEM, now=now)
        seed = _copy_seed(tmp_path)
        _edit(seed / "materials.csv", "正极粉;", "正极粉;正极粉末;")

        import_seed(session, actor=SYSTEM, now=now, directory=seed)

        texts = set(session.scalars(select(KnowledgeAlias.text)))
        assert {"衍射仪测试", "正极粉末"} <= texts
        assert session.scalar(select(KnowledgeAlias.origin).where(
            KnowledgeAlias.text == "衍射仪测试")) == Origin.ADMIN

    def test_only_platform_admins_import(self, session: Session, now: datetime) -> None:
        account = an_account(session, roles=(Role.PROVIDER_ADMIN,))

        with pytest.raises(NotAllowed):
            import_seed(session, actor=actor_for(get_account(session, account.id)), now=now)


class TestBadSeed:
    """Every bad reference is named by file, row and field; nothing is stored."""

    def _rejected(self, session: Session, now: datetime, seed: Path) -> list[str]:
        before = _counts(session)
        with pytest.raises(KnowledgeImportRejected) as caught:
            import_seed(session, actor=SYSTEM, now=now, directory=seed)
        assert _counts(session) == before
        return [str(problem) for problem in caught.value.problems]

    def test_names_file_row_and_field_of_each_bad_reference(
            self, session: Session, now: datetime, tmp_path: Path) -> None:
        seed = _copy_seed(tmp_path)
        _edit(seed / "standards.csv", "GB/T 19587,气体吸附BET法测定固态物质比表面积,"
              "Determination of the specific surface area of solids by gas adsorption using "
              "the BET method,BET,", "GB/T 19587,气体吸附BET法测定固态物质比表面积,"
              "Determination of the specific surface area of solids by gas adsorption using "
              "the BET method,BETX,")
        _edit(seed / "techniques.csv", "单晶衍射;单晶XRD;SCXRD;单晶结构解析;绝对构型测定;"
              "晶体结构测定;蛋白晶体学;single-crystal X-ray diffraction,0103,",
              "单晶衍射;单晶XRD;SCXRD;单晶结构解析;绝对构型测定;晶体结构测定;蛋白晶体学;"
              "single-crystal X-ray diffraction,0199,")
        _edit(seed / "material_property_technique.csv", "LIB_CATHODE,PHASE,", "LIB_CATHODE,PHASEX,")

        problems = self._rejected(session, now, seed)

        assert "standards.csv row 4: technique_codes: unknown technique code BETX" in problems
        assert "techniques.csv row 3: class_codes: unknown national class code 0199" in problems
        assert ("material_property_technique.csv row 2: property_code: unknown property code "
                "PHASEX") in problems

    def test_names_the_row_of_a_bad_example_need(self, session: Session, now: datetime,
                                                 tmp_path: Path) -> None:
        seed = _copy_seed(tmp_path)
        with (seed / "technique_needs.csv").open("a", encoding="utf-8") as needs:
            needs.write("XRDX,想测物相,Which phases are present\nXRD,,Which phases are present\n")
        rows = len((seed / "technique_needs.csv").read_text(encoding="utf-8").splitlines())

        problems = self._rejected(session, now, seed)

        assert (f"technique_needs.csv row {rows - 1}: technique_code: unknown technique code "
                "XRDX") in problems
        assert f"technique_needs.csv row {rows}: need_zh: empty" in problems

    def test_rejects_missing_column_and_duplicate_code(self, session: Session, now: datetime,
                                                       tmp_path: Path) -> None:
        seed = _copy_seed(tmp_path)
        _edit(seed / "industries.csv", "code,name_zh,name_en", "code,name_zh,name_english")
        _edit(seed / "materials.csv", "LIB_ANODE,", "LIB_CATHODE,")

        problems = self._rejected(session, now, seed)

        assert "industries.csv row 1: name_en: column missing from the header" in problems
        assert "materials.csv row 3: code: LIB_CATHODE defined twice" in problems

    def test_rejects_a_missing_file(self, session: Session, now: datetime,
                                    tmp_path: Path) -> None:
        seed = _copy_seed(tmp_path)
        (seed / "standards.csv").unlink()

        assert "standards.csv row 0: file: missing" in self._rejected(session, now, seed)

    def test_rejects_dropping_a_node_an_admin_link_uses(
            self, session: Session, now: datetime, seeded: SeedVersionRead,
            tmp_path: Path) -> None:
        link = add_link(session, LinkCreate(kind=LinkKind.SUITS, material_code="SEPARATOR",
                                            property_code="PORE", technique_code="NMR"),
                        actor=SYSTEM, now=now)
        seed = _copy_seed(tmp_path)
        lines = (seed / "materials.csv").read_text(encoding="utf-8").splitlines(True)
        (seed / "materials.csv").write_text("".join(
            line for line in lines if not line.startswith("SEPARATOR,")), encoding="utf-8")
        rows = (seed / "material_property_technique.csv").read_text(
            encoding="utf-8").splitlines(True)
        (seed / "material_property_technique.csv").write_text("".join(
            row for row in rows if not row.startswith("SEPARATOR,")), encoding="utf-8")

        problems = self._rejected(session, now, seed)

        assert problems == [f"material file row 0: code: the seed drops a material still used "
                            f"by admin link #{link.id}"]
