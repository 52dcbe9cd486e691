"""The edition graph on LangGraph Server: `graph`, the compiled graph langgraph.json names.

It is the graph the CLI runs (graphs/edition.py). A run on the server brings no context: each
node gets this process's (`server_context`: the settings and store read once, models of its
own, the embedded model shared by every run). The server brings its own checkpointer (in memory under
`langgraph dev`, PostgreSQL on a self-hosted server) and answers `interrupt()` at review through
its API. flashnews brings the rest from the same FLASHNEWS_* configuration as the CLI, read once
per server process: the store (SQLite in FLASHNEWS_HOME, or FLASHNEWS_DATABASE_URL), the output
dir, the model endpoint.

Input of a run: {"date": "YYYY-MM-DD", "format": "flash"|"digest"|"weekly", "source": "arxiv"|PATH}
(source optional; see agents/fetcher.py run_input). Resume value at review: an editor command,
see agents/editor.py `command`.
"""

from __future__ import annotations

import atexit
import threading
import uuid
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from flashnews.config import Settings
from flashnews.errors import ConfigError
from flashnews.graphs.context import Context, ServerRunContext, use_default
from flashnews.graphs.edition import build_graph
from flashnews.tools.llm import Models
from flashnews.tools.store import Store

_lock = threading.Lock()
_embedded_lock = threading.Lock()  # starting the model takes a while: not under `_lock`
_process: dict[str, Any] = {}
"""What every run of this server process shares: settings, store, the embedded model server."""


def _shared() -> tuple[Settings, Store]:
    """The process's settings and store, opened on first use (closed when the process exits)."""
    with _lock:
        if "store" not in _process:
            settings = Settings()
            _process["settings"] = settings
            _process["store"] = Store.open(settings)
            atexit.register(close)
        return _process["settings"], _process["store"]


def close() -> None:
    """Stop the shared embedded model server and close the store (at process exit)."""
    with _lock:
        server = _process.pop("embedded", None)
        if server is not None:
            server.stop()
        store = _process.pop("store", None)
        if store is not None:
            store.close()
        _process.pop("settings", None)


class ServerModels(Models):
    """The models of one run on the server.

    With no endpoint configured, the embedded model is served only when FLASHNEWS_SERVER_EMBEDDED
    says so, and then by one llama.cpp server for every run of the process (not one per run).
    """

    def _start_embedded(self) -> str:
        if not self.settings.server_embedded:
            raise ConfigError(
                "no model endpoint configured for LangGraph Server: set FLASHNEWS_BASE_URL (and "
                "OPENAI_API_KEY if it needs one), or FLASHNEWS_SERVER_EMBEDDED=true to serve the "
                "embedded model from the server process")
        with _embedded_lock:
            server = _process.get("embedded")
            if server is None:
                from flashnews.tools.local_model import LocalServer, assemble, check_gguf

                s = self.settings
                path = check_gguf(s.local_model) if s.local_model else assemble(s.home / "models")
                server = LocalServer(path, log_path=s.home / "logs" / "local-model.log",
                                     n_ctx=s.local_n_ctx, threads=s.local_threads,
                                     start_timeout=s.local_start_timeout)
                server.start()
                _process["embedded"] = server
            return str(server.base_url)


def edition_thread_id(edition_id: str) -> str:
    """The server thread of an edition: a UUID (the server wants one) derived from its id, so
    every client finds the same thread (`threads.create(thread_id=…, if_exists="do_nothing")`)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"flashnews:edition:{edition_id}"))


def server_context() -> Context:
    """The context of a node run by the server: review by the editor (interrupt at review)."""
    settings, store = _shared()
    with _lock:
        if "embedder" not in _process:
            from flashnews.tools.embeddings import load_embedder

            _process["embedder"] = load_embedder(settings)  # loads on its first text
    # The ledger books calls to the state's edition (graphs/context.py), not to the thread id.
    return Context(settings, store, ServerModels(settings, store, ""), settings.editions_dir,
                   policy="interactive", embedder=_process["embedder"])


use_default(server_context)
graph: CompiledStateGraph[Any, Any, Any, Any] = build_graph(context_schema=ServerRunContext)
"""The edition graph, compiled once; the server adds its checkpointer."""


def _search_index() -> Any:
    """The process's archive search (tools/search.py) over the shared store and embedder."""
    from flashnews.tools.search import SearchIndex

    server_context()  # the shared settings, store and embedder
    with _lock:
        if "search" not in _process:
            _process["search"] = SearchIndex(_process["store"], _process["embedder"])
        return _process["search"]


def search_endpoint(request: Any) -> Any:
    """GET /flashnews/search?q=…[&since=YYYY-MM-DD][&limit=N][&by=both|words|meaning]: the
    archive's hits as JSON, like `flashnews search --json`. A bad parameter is a 400 with a
    one-line error; never a traceback."""
    import datetime as dt

    from starlette.responses import JSONResponse

    from flashnews.errors import FlashnewsError

    params = request.query_params
    query = params.get("q", "")
    try:
        since = dt.date.fromisoformat(params["since"]) if params.get("since") else None
    except ValueError:
        return JSONResponse({"error": f"since must be YYYY-MM-DD, got {params['since']!r}"},
                            status_code=400)
    by = params.get("by", "both")
    if by not in ("both", "words", "meaning"):
        return JSONResponse({"error": f"by must be both, words or meaning, got {by!r}"},
                            status_code=400)
    try:
        limit = int(params.get("limit", "10"))
        if not 1 <= limit <= 200:
            raise ValueError
    except ValueError:
        return JSONResponse({"error": "limit must be a whole number from 1 to 200"},
                            status_code=400)
    from flashnews.tools.store import is_database_error, storage_error

    try:
        hits = _search_index().search(query, since=since, limit=limit, by=by)
    except FlashnewsError as exc:
        return JSONResponse({"error": str(exc)}, status_code=503)
    except Exception as exc:
        if not is_database_error(exc):
            raise
        return JSONResponse({"error": str(storage_error(exc, None))}, status_code=503)
    return JSONResponse({"query": query, "hits": [h.model_dump() for h in hits]})


def __getattr__(name: str) -> Any:
    """`http_app`: flashnews' own routes beside LangGraph Server's API (langgraph.json
    `http.app`), built when the server asks for it (starlette comes with the server)."""
    if name != "http_app":
        raise AttributeError(name)
    from starlette.applications import Starlette
    from starlette.routing import Route

    with _lock:
        if "http_app" not in _process:
            _process["http_app"] = Starlette(routes=[Route("/flashnews/search", search_endpoint,
                                                           methods=["GET"])])
        return _process["http_app"]
