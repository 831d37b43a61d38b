"""The one family of domain errors.

Every error names the record, the field (when one is at fault) and the reason, so the API, the
CLI and the import report can all say the same words. The web layer maps the four categories
to HTTP status codes in one table; domains never know about HTTP.
"""

from __future__ import annotations


class SciShareError(Exception):
    """Base of every error a user can cause."""

    category = "error"

    def __init__(self, reason: str, *, record: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.record = record
        self.field = field

    def __str__(self) -> str:
        where = f"{self.record}: {self.field}" if self.field else self.record
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "error": self.category,
            "record": self.record,
            "field": self.field,
            "reason": self.reason,
        }


class NotFound(SciShareError):
    category = "not_found"


class Conflict(SciShareError):
    category = "conflict"


class InvalidInput(SciShareError):
    category = "invalid_input"


class Forbidden(SciShareError):
    category = "forbidden"


class Unauthenticated(SciShareError):
    category = "unauthenticated"
