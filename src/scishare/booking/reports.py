"""Test reports on disk: PDFs stored under their SHA-256 in the configured directory.

Files are content-addressed, written to a temporary name and renamed into place, so a report
is either whole or absent, and the same file uploaded twice is stored once. A file whose
transaction later rolls back stays behind unreferenced; it is harmless and never served.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scishare.booking.errors import NotAPdf, ReportTampered, ReportTooLarge
from scishare.core.settings import get_settings

PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class ReportStore:
    directory: Path
    max_bytes: int

    @classmethod
    def from_settings(cls) -> ReportStore:
        settings = get_settings()
        return cls(directory=settings.reports_dir, max_bytes=settings.report_max_bytes)

    def path_of(self, sha256: str) -> Path:
        return self.directory / sha256[:2] / f"{sha256}.pdf"

    def check(self, content: bytes, *, record: str) -> None:
        """Raise unless `content` is a PDF no larger than the cap."""
        if len(content) > self.max_bytes:
            raise ReportTooLarge(f"{len(content)} bytes; at most {self.max_bytes} are taken",
                                 record=record, field="file")
        if not content.startswith(PDF_MAGIC):
            raise NotAPdf("not a PDF file (it does not start with %PDF-)", record=record,
                          field="file")

    def save(self, content: bytes, *, record: str) -> StoredFile:
        """Check and store `content`; returns its checksum and size."""
        self.check(content, record=record)
        digest = hashlib.sha256(content).hexdigest()
        target = self.path_of(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(content)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return StoredFile(sha256=digest, size_bytes=len(content))

    def read(self, sha256: str, *, record: str) -> bytes:
        """The stored bytes, after checking them against their checksum."""
        path = self.path_of(sha256)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise ReportTampered("the report file is missing from storage", record=record,
                                 field="file") from None
        if hashlib.sha256(content).hexdigest() != sha256:
            raise ReportTampered("the stored report does not match its checksum",
                                 record=record, field="file")
        return content
