"""Message catalogs for the web pages: Simplified Chinese first, English second.

Message ids are English. The `.po` files under ``locale/<lang>/LC_MESSAGES`` are committed; the
`.mo` files are compiled at install (`make install`) and ignored by git. When a `.mo` is missing
or older than its `.po`, the app compiles the `.po` in memory at start-up instead, so a fresh
clone and a just-edited catalog both work without an extra step.

    python -m scishare.web.i18n extract   # templates and Python -> every .po (new ids added)
    python -m scishare.web.i18n compile   # every .po -> .mo
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

WEB_DIR = Path(__file__).resolve().parent
LOCALE_DIR = WEB_DIR / "locale"
DOMAIN = "messages"

DEFAULT_LOCALE = "zh_Hans"
# What `?lang=` and the `lang` cookie carry, mapped to the Babel locale of each catalog.
LANGUAGES: dict[str, str] = {"zh": "zh_Hans", "en": "en"}
LOCALES: tuple[str, ...] = tuple(LANGUAGES.values())

# Where messages are found, relative to WEB_DIR; N_() marks ids in Python (labels, forms).
METHOD_MAP = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS_MAP = {"templates/**.html": {"trimmed": "true"}}


class MissingCatalog(RuntimeError):
    """A locale has neither a compiled nor a source catalog: the package is incomplete."""


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str) -> Path:
    return po_path(locale).with_suffix(".mo")


def _read_po(locale: str) -> Catalog:
    with po_path(locale).open("rb") as handle:
        catalog: Catalog = read_po(handle, locale=locale, domain=DOMAIN)
    return catalog


def _mo_bytes(catalog: Catalog) -> bytes:
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def load_translations(locale: str) -> Translations:
    """The translations of `locale`, from its `.mo` if up to date, else from its `.po`."""
    po, mo = po_path(locale), mo_path(locale)
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(fp=handle, domain=DOMAIN)
    if not po.exists():
        raise MissingCatalog(
            f"no message catalog for {locale}: expected {po} (committed with the package) "
            f"or {mo} (from `python -m scishare.web.i18n compile`)")
    return Translations(fp=BytesIO(_mo_bytes(_read_po(locale))), domain=DOMAIN)


def load_all() -> dict[str, Translations]:
    return {locale: load_translations(locale) for locale in LOCALES}


def _template() -> Catalog:
    template = Catalog(project="SciShare", domain=DOMAIN, charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            WEB_DIR, METHOD_MAP, OPTIONS_MAP):
        template.add(message, None, [(filename, lineno)], auto_comments=comments,
                     context=context)
    return template


def _translated(message: Message) -> bool:
    # A plural message carries one string per plural form.
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings)


def extract() -> Iterator[str]:
    """Collect message ids and merge them into every locale's `.po`; yields a line per file."""
    template = _template()
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            catalog = _read_po(locale)
            # Exact ids only: a fuzzy guess from a similar id would ship a wrong translation.
            catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        else:
            catalog = Catalog(locale=locale, project="SciShare", domain=DOMAIN,
                              charset="utf-8", fuzzy=False)
            catalog.update(template, no_fuzzy_matching=True)
            path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            # Without line numbers the files change only when messages do.
            write_po(handle, catalog, width=100, ignore_obsolete=True, include_lineno=False,
                     sort_output=True)
        untranslated = sum(1 for message in catalog if message.id and not _translated(message))
        note = " (the English ids are shown)" if locale == "en" else ""
        yield f"{path}: {len(catalog)} messages, {untranslated} untranslated{note}"


def compile_catalogs() -> Iterator[str]:
    """Write each locale's `.mo` from its `.po`; yields a line per file."""
    for locale in LOCALES:
        catalog = _read_po(locale)
        for message, problems in catalog.check():
            for problem in problems:
                raise SystemExit(f"{po_path(locale)}: {message.id!r}: {problem}")
        mo_path(locale).write_bytes(_mo_bytes(catalog))
        yield f"{mo_path(locale)}: compiled"


def main(argv: list[str]) -> int:
    commands = {"extract": extract, "compile": compile_catalogs}
    if len(argv) != 1 or argv[0] not in commands:
        print("usage: python -m scishare.web.i18n extract|compile", file=sys.stderr)
        return 2
    for line in commands[argv[0]]():
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
