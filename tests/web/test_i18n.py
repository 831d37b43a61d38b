"""Message catalogs: complete, in step with the templates, and loadable without a build step."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from scishare.web import i18n

TEMPLATES = Path(i18n.WEB_DIR) / "templates"
# Names that read the same in every language: the product, accreditation marks, and the
# language switch (each language named in itself).
UNTRANSLATED_WORDS = {"SciShare", "CMA", "CNAS", "中文", "English"}


def catalog_ids(locale: str) -> set[str]:
    with i18n.po_path(locale).open("rb") as handle:
        return {str(message.id[0] if isinstance(message.id, tuple) else message.id)
                for message in read_po(handle) if message.id}


class TestCatalogs:
    def test_every_message_has_a_chinese_translation(self) -> None:
        with i18n.po_path("zh_Hans").open("rb") as handle:
            catalog = read_po(handle)

        untranslated = [message.id for message in catalog if message.id and (
            not all(message.string) if isinstance(message.string, tuple)
            else not message.string)]
        assert untranslated == []
        assert [message.id for message in catalog if message.fuzzy and message.id] == []

    def test_catalogs_hold_every_message_of_templates_and_code(self) -> None:
        extracted = {str(message.id[0] if isinstance(message.id, tuple) else message.id)
                     for message in i18n._template() if message.id}

        for locale in i18n.LOCALES:
            # Run `make i18n` (python -m scishare.web.i18n extract) after changing a message.
            assert extracted == catalog_ids(locale), locale

    @pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")),
                             ids=lambda path: str(path.relative_to(TEMPLATES)))
    def test_templates_have_no_text_outside_gettext(self, template: Path) -> None:
        source = template.read_text(encoding="utf-8")
        text = re.sub(r"{{.*?}}|{%.*?%}|{#.*?#}", " ", source, flags=re.DOTALL)
        text = re.sub(r"<[^>]*>|&\w+;", " ", text)

        words = set(re.findall(r"[^\W\d_]+", text)) - UNTRANSLATED_WORDS
        assert words == set()


class TestLoading:
    @pytest.fixture
    def locale_dir(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        copy = tmp_path / "locale"
        shutil.copytree(i18n.LOCALE_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
        monkeypatch.setattr(i18n, "LOCALE_DIR", copy)
        return copy

    def test_reads_the_po_when_nothing_is_compiled(self, locale_dir: Path) -> None:
        translations = i18n.load_translations("zh_Hans")

        assert translations.gettext("Sign in") == "登录"

    def test_compiles_mo_files_that_are_then_used(self, locale_dir: Path) -> None:
        list(i18n.compile_catalogs())
        i18n.po_path("zh_Hans").write_text("this is not a catalog", encoding="utf-8")
        mo = i18n.mo_path("zh_Hans")
        # A .mo at least as new as its .po is trusted without reading the .po.
        shutil.copystat(i18n.po_path("zh_Hans"), mo)

        assert i18n.load_translations("zh_Hans").gettext("Sign in") == "登录"

    def test_missing_catalog_says_what_to_do(self, locale_dir: Path) -> None:
        i18n.po_path("en").unlink()

        with pytest.raises(i18n.MissingCatalog, match=r"scishare\.web\.i18n compile"):
            i18n.load_translations("en")

    def test_command_line(self, locale_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert i18n.main(["compile"]) == 0
        assert i18n.main(["translate"]) == 2

        assert "compiled" in capsys.readouterr().out
        assert i18n.mo_path("en").exists()
