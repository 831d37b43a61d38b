from collections.abc import Sequence
from dataclasses import dataclass

from scishare.core.errors import Conflict, InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class KnowledgeProblem:
    """One bad value in a seed file: which file, which row (header = 1), which column, why."""

    file: str
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} row {self.row}: {self.field}: {self.reason}"


class KnowledgeImportRejected(InvalidInput):
    """A seed with problems; every problem is listed and nothing was stored."""

    def __init__(self, problems: Sequence[KnowledgeProblem]) -> None:
        self.problems: tuple[KnowledgeProblem, ...] = tuple(problems)
        count = len(self.problems)
        first = f" (first: {self.problems[0]})" if self.problems else ""
        super().__init__(f"{count} problem{'' if count == 1 else 's'} in the seed{first}; "
                         "nothing stored", record="knowledge import")


class UnknownNode(NotFound):
    pass


class DuplicateAlias(Conflict):
    pass


class DuplicateLink(Conflict):
    pass


class BadLink(InvalidInput):
    pass
