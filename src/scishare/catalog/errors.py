from collections.abc import Sequence
from dataclasses import dataclass

from scishare.core.errors import Conflict, InvalidInput


class DuplicateInstrument(Conflict):
    pass


class UnknownClassCode(InvalidInput):
    pass


class UnknownTechnique(InvalidInput):
    pass


class BadLifecycleMove(InvalidInput):
    pass


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One thing wrong with an import file, said so that the user can find it.

    `row` is the row number a spreadsheet shows (the header is row 1, the first instrument
    row 2; 0 means the file as a whole); `field` is the column header as written in the file.
    """

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


class CatalogImportRejected(InvalidInput):
    """A catalog file with problems; every problem is listed and nothing was stored."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems: tuple[ImportProblem, ...] = tuple(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'' if count == 1 else 's'} in the file; "
                         "nothing stored", record="catalog import")
