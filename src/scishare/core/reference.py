"""Reference data shipped inside the package (national classification, knowledge seed).

The CSVs under ``scishare/data`` are copies of ``shared/domain`` so that a fresh clone works on
its own; they are read as data, never transcribed into code.
"""

import csv
from collections.abc import Iterator
from importlib import resources
from pathlib import Path


def data_path(*parts: str) -> Path:
    return Path(str(resources.files("scishare") / "data" / Path(*parts)))


def read_csv(*parts: str) -> Iterator[dict[str, str]]:
    with data_path(*parts).open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def split_list(cell: str | None) -> list[str]:
    """Split a ``a;b;c`` cell into its non-empty parts."""
    return [part.strip() for part in (cell or "").split(";") if part.strip()]
