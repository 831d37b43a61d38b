"""Money as an integer number of fen (1/100 CNY); never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from scishare.core.errors import InvalidInput

FEN_PER_YUAN = 100


@dataclass(frozen=True, order=True, slots=True)
class Money:
    """An amount in fen. Arithmetic stays in integers; rounding happens only in `parse`."""

    fen: int

    def __post_init__(self) -> None:
        if not isinstance(self.fen, int) or isinstance(self.fen, bool):
            raise TypeError(f"Money needs integer fen, got {self.fen!r}")

    @classmethod
    def parse(cls, text: str | int | Decimal, *, record: str = "amount",
              field: str | None = None) -> Money:
        """Read a yuan amount such as "1234.5" or "1,234.50"; rounds half-up to the fen."""
        try:
            yuan = Decimal(str(text).replace(",", "").replace("¥", "").strip())
        except InvalidOperation:
            raise InvalidInput(f"not an amount: {text!r}", record=record, field=field) from None
        if not yuan.is_finite():
            raise InvalidInput(f"not an amount: {text!r}", record=record, field=field)
        fen = (yuan * FEN_PER_YUAN).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return cls(int(fen))

    @property
    def yuan(self) -> Decimal:
        return Decimal(self.fen) / FEN_PER_YUAN

    def __add__(self, other: Money) -> Money:
        return Money(self.fen + other.fen)

    def __sub__(self, other: Money) -> Money:
        return Money(self.fen - other.fen)

    def __neg__(self) -> Money:
        return Money(-self.fen)

    def __str__(self) -> str:
        sign = "-" if self.fen < 0 else ""
        whole, part = divmod(abs(self.fen), FEN_PER_YUAN)
        return f"{sign}{whole}.{part:02d}"


def format_yuan(fen: int) -> str:
    """Fen as a yuan string with two decimals, e.g. 123456 -> "1234.56"."""
    return str(Money(fen))
