"""The instrument form: what a provider typed, kept as typed until it makes a valid command.

Prices are typed in yuan and become integer fen here, once. Problems are keyed by the name of
the form field they belong to, so the page can show each one next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData

from scishare.catalog.models import ServiceUnit
from scishare.catalog.schemas import InstrumentRead
from scishare.core.errors import InvalidInput, SciShareError
from scishare.core.money import Money
from scishare.web.labels import N_

Command = TypeVar("Command", bound=BaseModel)
Gettext = Callable[[str], str]

GENERAL = ""
"""The key of problems that belong to no one field; shown above the form."""

TEXT_FIELDS = ("exchange_id", "organisation_id", "name_zh", "name_en", "model", "manufacturer",
               "country_of_origin", "class_code", "technique_codes", "specifications",
               "functions", "original_value", "purchased_on", "region_code", "address",
               "latitude", "longitude", "contact_name", "contact_phone", "contact_email")
FLAGS = ("is_open_external", "has_cma", "has_cnas")
# Left out of a command when blank: "no value" rather than an empty string.
OPTIONAL = ("purchased_on", "latitude", "longitude")
PRICES = ("price_internal", "price_nonprofit", "price_enterprise")
BLANK_ITEM_ROWS = 2
TECHNIQUE_SEPARATORS = re.compile(r"[\s,，;；、]+")

# Pydantic's findings in the reader's words, by error type.
MESSAGES = {
    "missing": N_("Required."),
    # A blank amount reaches its integer field as None.
    "int_type": N_("Required."),
    "string_too_short": N_("Required."),
    "string_too_long": N_("Too long: at most %(max_length)s characters."),
    "too_long": N_("Too many: at most %(max_length)s."),
    "string_pattern_mismatch": N_("Not in the expected format."),
    "greater_than_equal": N_("Must be at least %(ge)s."),
    "less_than_equal": N_("Must be at most %(le)s."),
    "float_parsing": N_("Not a number."),
    "int_parsing": N_("Not a number."),
    "date_parsing": N_("Not a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("Not a date (YYYY-MM-DD)."),
    "enum": N_("Not one of the choices."),
}
NOT_AN_AMOUNT = N_("Not an amount in yuan.")


@dataclass
class ServiceItemRow:
    name_zh: str = ""
    name_en: str = ""
    unit: str = ServiceUnit.SAMPLE.value
    price_internal: str = ""
    price_nonprofit: str = ""
    price_enterprise: str = ""
    is_active: bool = True

    def is_blank(self) -> bool:
        return not any((self.name_zh, self.name_en, *(getattr(self, p) for p in PRICES)))


@dataclass
class InstrumentForm:
    values: dict[str, str]
    flags: dict[str, bool]
    items: list[ServiceItemRow]
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls, *, organisation_id: int | None, region_code: str = "") -> InstrumentForm:
        values = dict.fromkeys(TEXT_FIELDS, "")
        values.update(organisation_id=str(organisation_id or ""), region_code=region_code)
        return cls(values=values, flags={"is_open_external": True, "has_cma": False,
                                         "has_cnas": False}, items=[])

    @classmethod
    def of(cls, instrument: InstrumentRead) -> InstrumentForm:
        """The form filled in with an instrument as stored."""
        stored = instrument.model_dump()
        values = {name: "" if stored.get(name) is None else str(stored[name])
                  for name in TEXT_FIELDS}
        values.update(organisation_id=str(instrument.organisation_id),
                      technique_codes=", ".join(instrument.technique_codes),
                      original_value=str(Money(instrument.original_value_fen)))
        items = [ServiceItemRow(
            name_zh=item.name_zh, name_en=item.name_en, unit=item.unit.value,
            price_internal=str(Money(item.price_internal_fen)),
            price_nonprofit=str(Money(item.price_nonprofit_fen)),
            price_enterprise=str(Money(item.price_enterprise_fen)), is_active=item.is_active)
            for item in instrument.service_items]
        return cls(values=values, flags={flag: bool(stored[flag]) for flag in FLAGS},
                   items=items)

    @classmethod
    def posted(cls, form: FormData) -> InstrumentForm:
        """The form as sent; unchecked boxes are simply absent from a post."""
        values = {name: str(form.get(name, "")).strip() for name in TEXT_FIELDS}
        items = [ServiceItemRow(
            name_zh=_cell(form, index, "name_zh"), name_en=_cell(form, index, "name_en"),
            unit=_cell(form, index, "unit"),
            price_internal=_cell(form, index, "price_internal"),
            price_nonprofit=_cell(form, index, "price_nonprofit"),
            price_enterprise=_cell(form, index, "price_enterprise"),
            is_active=f"items-{index}-is_active" in form)
            for index in range(_count(form.get("item_rows")))]
        return cls(values=values, flags={flag: flag in form for flag in FLAGS}, items=items)

    def rows(self) -> list[ServiceItemRow]:
        """The service item rows to show: the filled ones and a few blank ones to add more."""
        return [*self.items, *(ServiceItemRow() for _ in range(BLANK_ITEM_ROWS))]

    def command(self, schema: type[Command], gettext: Gettext) -> Command | None:
        """`schema` built from the form, or None with `errors` filled in."""
        data: dict[str, Any] = {name: value for name, value in self.values.items()
                                if name in schema.model_fields}
        for name in OPTIONAL:
            if name in data and not data[name]:
                data[name] = None
        data.update(self.flags)
        data["technique_codes"] = [code.upper() for code in TECHNIQUE_SEPARATORS.split(
            self.values["technique_codes"]) if code]
        data["original_value_fen"] = self._fen(self.values["original_value"], "original_value",
                                               gettext)
        kept = [(index, row) for index, row in enumerate(self.items) if not row.is_blank()]
        data["service_items"] = [
            {"name_zh": row.name_zh, "name_en": row.name_en, "unit": row.unit,
             "is_active": row.is_active}
            | {f"{price}_fen": self._fen(getattr(row, price), f"items-{index}-{price}", gettext)
               for price in PRICES}
            for index, row in kept]
        try:
            command = schema.model_validate(data)
        except ValidationError as error:
            for detail in error.errors():
                self.errors.setdefault(_field_of(detail["loc"], [i for i, _ in kept]),
                                       _message(detail, gettext))
            return None
        return None if self.errors else command

    def _fen(self, text: str, name: str, gettext: Gettext) -> int | None:
        """Yuan as typed into field `name`, in fen; None if blank or not an amount."""
        if not text:
            return None
        try:
            return Money.parse(text).fen
        except InvalidInput:
            self.errors[name] = gettext(NOT_AN_AMOUNT)
            return None

    def reject(self, error: SciShareError) -> None:
        """Show a domain error next to its field, or above the form."""
        name = "original_value" if error.field == "original_value_fen" else error.field
        self.errors[name if name in TEXT_FIELDS else GENERAL] = error.reason


def _cell(form: FormData, index: int, name: str) -> str:
    return str(form.get(f"items-{index}-{name}", "")).strip()


def _count(text: object) -> int:
    """The number of item rows the form says it has; a tampered value counts as none."""
    try:
        return max(0, min(int(str(text)), 100))
    except ValueError:
        return 0


def _field_of(loc: tuple[int | str, ...], item_rows: list[int]) -> str:
    """The form field a pydantic error location points at."""
    head = str(loc[0]) if loc else GENERAL
    if head == "service_items" and len(loc) >= 3 and isinstance(loc[1], int):
        return f"items-{item_rows[loc[1]]}-{str(loc[2]).removesuffix('_fen')}"
    if head == "original_value_fen":
        return "original_value"
    return head if head in TEXT_FIELDS else GENERAL


def _message(detail: ErrorDetails, gettext: Gettext) -> str:
    template = MESSAGES.get(detail["type"])
    if template is None:
        return detail["msg"]
    context = detail.get("ctx") or {}
    return gettext(template) % context if "%(" in template else gettext(template)
