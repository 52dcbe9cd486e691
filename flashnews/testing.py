"""Test doubles for the model: a scripted fake chat model and a stub OpenAI-compatible server.

Both answer through one `Responder`: given what was asked (messages, the function the caller
forces, whether token probabilities were requested), it returns tool arguments, a yes/no
probability, or an exception. The default responder answers like a careful, grounded model, using
only text from the prompt, so a pipeline run on it is deterministic and passes its own checks.
The stub server is also the fixed-latency endpoint of `make bench`.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from flashnews.text import first_sentence

_PAPER = re.compile(r'<paper id="([^"]+)">\s*Title: (.*?)\n(?:Categories: .*?\n)?'
                    r"(?:Abstract|Sentence): (.*?)\n</paper>", re.S)
# The critic's question about one sentence (prompts/critic.md).
_CLAIM = re.compile(r"From the abstract: (.*?)\n</paper>.*?Sentence about this paper: (.*?)\n",
                    re.S)
_BEAT = re.compile(r"inference|serving|KV|cache|decod|quantiz|accelerat|GPU|FPGA|throughput|"
                   r"latency|expert|MoE|prefill|memory", re.I)


@dataclass
class Request:
    """What a model was asked."""

    messages: list[dict[str, str]]
    tool: str | None = None
    logprobs: bool = False
    schema: dict[str, Any] = field(default_factory=dict)
    """JSON schema of the forced function's arguments."""

    @property
    def kind(self) -> str:
        """triage | writer | critic, guessed from the function forced or the question asked."""
        if self.tool in ("Review", "Verdict") or _CLAIM.search(self.text):
            return "critic"
        if self.logprobs and "<papers>" in self.text:  # the writer judging a digest theme
            return "writer"
        if self.logprobs or self.tool == "TriageBatch":
            return "triage"
        return "writer"

    @property
    def text(self) -> str:
        return "\n".join(m["content"] for m in self.messages)

    def papers(self) -> list[tuple[str, str, str]]:
        """Papers in the latest message that has any (a retry message follows the question)."""
        for m in reversed(self.messages):
            found = _PAPER.findall(m["content"])
            if found:
                return found
        return []

    def max_length(self, prop: str) -> int | None:
        return self.schema.get("properties", {}).get(prop, {}).get("maxLength")


Reply = dict[str, Any] | float | Exception
Responder = Callable[[Request], Reply]


def _quote(text: str, limit: int = 400) -> str:
    """The first sentence, in whole words within the schema's `limit` characters, as a model
    that follows the schema quotes it (real first sentences run longer)."""
    s = first_sentence(text)
    return s if len(s) <= limit else s[:limit].rsplit(" ", 1)[0]


def grounded_responder(request: Request) -> Reply:
    """Answers built only from the prompt's own text (so every number is in an abstract)."""
    papers = request.papers()
    claim = _CLAIM.search(request.text)
    if claim:
        # A careful reader: supported when the sentence's words are the abstract's.
        source = set(re.findall(r"[a-z]{4,}", claim.group(1).lower()))
        words = set(re.findall(r"[a-z]{4,}", claim.group(2).lower()))
        share = len(words & source) / len(words) if words else 1.0
        if request.tool == "Verdict":
            return {"supported": share >= 0.5}
        return round(min(0.97, max(0.03, share)), 3)
    if request.logprobs:
        title, abstract = (papers[0][1], papers[0][2]) if papers else ("", request.text)
        hits = len(_BEAT.findall(f"{title} {abstract}"))
        if "talk about" in request.messages[-1]["content"]:
            return min(0.9, 0.2 + 0.05 * hits)
        return min(0.97, 0.05 + 0.08 * hits)
    if request.tool == "TriageBatch":
        out = []
        for pid, title, abstract in papers:
            hits = len(_BEAT.findall(f"{title} {abstract}"))
            score = min(95, 10 + 8 * hits)
            out.append({"arxiv_id": pid, "relevant": score >= 50, "score": score,
                        "hype": min(90, 20 + 4 * hits), "rationale": "beat terms in abstract",
                        "topics": ["serving"], "key_claims": [
                            {"claim": "main claim", "span": _quote(abstract)}]})
        return {"assessments": out}
    if request.tool == "ItemPhrase":
        from flashnews.text.facts import compact

        pid, title, sentence = papers[0]
        head = title.split(":")[0] if ":" in title else "New work"
        m = re.search(r"in at most (\d+) words", request.messages[-1]["content"])
        limit = request.max_length("what") or 200
        what = compact(sentence, int(m.group(1)) if m else 20, sentence)
        return {"headline": " ".join(head.split()[:6]), "what": what[:limit]}
    if request.tool == "Headline":
        m = re.search(r"Sentence: (.*?)\n</paper>", request.messages[-1]["content"], re.S)
        tokens = re.findall(r"[A-Za-z][A-Za-z-]*", m.group(1) if m else "")
        return {"headline": " ".join(tokens[1:6]).capitalize() or "New work"}
    if request.tool == "LeadLine":
        return {"lead": "Today's papers work on the cost and speed of serving large models."}
    if request.tool == "Themes":
        ids = re.findall(r"^\[([^\]]+)\]", request.messages[-1]["content"], re.M)
        return {"themes": [{"title": "Serving efficiency", "text": "Several items cut the cost "
                            "of inference. They attack it at different layers.",
                            "arxiv_ids": ids[:2]}]}
    if request.tool == "Review":
        return {"findings": []}
    raise ValueError(f"grounded_responder has no answer for {request.tool!r}")


def _logprobs(p_yes: float) -> dict[str, Any]:
    import math

    p_yes = min(max(p_yes, 1e-6), 1 - 1e-6)
    top: list[dict[str, Any]] = [{"token": "yes", "logprob": math.log(p_yes), "bytes": None},
           {"token": "no", "logprob": math.log(1 - p_yes), "bytes": None}]
    top.sort(key=lambda e: -e["logprob"])
    return {"content": [{"token": top[0]["token"], "logprob": top[0]["logprob"], "bytes": None,
                         "top_logprobs": top}]}


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class FakeChatModel(BaseChatModel):
    """A scripted chat model for unit tests: every call goes to `responder` and is recorded."""

    responder: Any = grounded_responder
    calls: list[Request] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "fake-scripted"

    def bind_tools(self, tools: Any, *, tool_choice: Any = None, **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools],
                         tool_choice=tool_choice, **kwargs)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        tools = kwargs.get("tools") or []
        req = Request(messages=[{"role": m.type, "content": str(m.content)} for m in messages],
                      tool=tools[0]["function"]["name"] if tools else None,
                      logprobs=bool(kwargs.get("logprobs")),
                      schema=tools[0]["function"].get("parameters", {}) if tools else {})
        self.calls.append(req)
        reply = self.responder(req)
        if isinstance(reply, Exception):
            raise reply
        usage = {"input_tokens": _tokens(req.text), "output_tokens": 8,
                 "total_tokens": _tokens(req.text) + 8}
        if isinstance(reply, float):
            msg = AIMessage(content="yes" if reply >= 0.5 else "no", usage_metadata=usage,
                            response_metadata={"logprobs": _logprobs(reply)})
        else:
            msg = AIMessage(content="", usage_metadata=usage, tool_calls=[
                {"name": req.tool or "", "args": reply, "id": f"call_{len(self.calls)}"}])
        return ChatResult(generations=[ChatGeneration(message=msg)])

    def kinds(self) -> Counter[str]:
        return Counter(c.kind for c in self.calls)


_COMMON = frozenset([
    "that", "this", "with", "from", "their", "these", "which", "while", "where", "when", "they",
    "them", "than", "then", "there", "have", "been", "were", "will", "would", "could", "should",
    "such", "also", "more", "most", "into", "over", "only", "both", "each", "other", "some",
    "many", "much", "very", "using", "used", "uses", "based", "show", "shows", "paper", "propose",
    "proposed", "present", "approach", "method", "methods", "results", "work", "model", "models",
    "data", "task", "tasks", "first", "time",
])


class HashingEmbedder:
    """A sentence embedder for unit tests: hashed word counts (no weights, deterministic).

    Texts sharing words get a high cosine similarity, so the ranking stage ranks on-beat
    papers above off-topic ones here too; the real model is tools/embeddings.MiniLMEmbedder.
    """

    name = "hashing-test-embedder"
    dim = 384

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def embed(self, texts: Any) -> Any:
        import hashlib

        import numpy as np

        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]{4,}", text.lower()):
                if word in _COMMON:
                    continue
                h = int.from_bytes(hashlib.blake2b(word[:6].encode(), digest_size=4).digest(),
                                   "little")
                out[row, h % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def fake_factory(model: FakeChatModel) -> Callable[[Any, str], BaseChatModel]:
    """A Models factory returning the same fake for every role."""
    return lambda role, url: model


# ---------------------------------------------------------------------------------------------
# The stub server
# ---------------------------------------------------------------------------------------------


@dataclass
class StubServer:
    """An OpenAI-compatible chat server on 127.0.0.1 answering through a responder.

    Each call takes `latency` seconds plus its tokens' time: input tokens at
    `input_tokens_per_s`, output tokens at `output_tokens_per_s` (0: free), like a real endpoint
    that reads the prompt and then generates. The bench uses 0.3 s + input / 5,000 per s + output
    / 50 per s, so a batch of papers costs what its tokens cost, not one call's latency.
    `fail` maps a request kind (triage, writer, critic) to an HTTP status it answers with
    instead; `counts` counts answered calls per kind.
    """

    responder: Responder = grounded_responder
    latency: float = 0.0
    input_tokens_per_s: float = 0.0
    output_tokens_per_s: float = 0.0
    fail: dict[str, int] = field(default_factory=dict)
    port: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    requests: list[Request] = field(default_factory=list)
    """Every request answered, in order (what the prompts held)."""
    _httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> StubServer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.endswith("/stats"):
                    self._send(200, dict(stub.counts))
                else:
                    self._send(200, {"object": "list", "data": [{"id": "stub", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self._send(*stub.answer(body))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        tools = body.get("tools") or []
        req = Request(messages=[{"role": m["role"], "content": str(m.get("content") or "")}
                                for m in body["messages"]],
                      tool=tools[0]["function"]["name"] if tools else None,
                      logprobs=bool(body.get("logprobs")),
                      schema=tools[0]["function"].get("parameters", {}) if tools else {})
        started = time.monotonic()
        self.requests.append(req)
        if req.kind in self.fail:
            time.sleep(self.latency)
            return self.fail[req.kind], {"error": {"message": f"stub failure for {req.kind}",
                                                   "type": "server_error"}}
        self.counts[req.kind] += 1
        try:
            reply = self.responder(req)
        except Exception as exc:  # a broken script is a server error, not a dropped connection
            reply = exc
        if isinstance(reply, Exception):
            return 500, {"error": {"message": str(reply), "type": "server_error"}}
        message: dict[str, Any] = {"role": "assistant", "content": None}
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop", "message": message}
        if isinstance(reply, float):
            lp = _logprobs(reply)
            message["content"] = lp["content"][0]["token"]
            choice["logprobs"] = lp
        else:
            message["tool_calls"] = [{"id": f"call_{sum(self.counts.values())}", "type": "function",
                                      "function": {"name": req.tool, "arguments": json.dumps(reply)}}]
            choice["finish_reason"] = "tool_calls"
        prompt_tokens = _tokens(req.text)
        completion_tokens = 1 if isinstance(reply, float) else _tokens(json.dumps(reply))
        wait = self.call_seconds(prompt_tokens, completion_tokens) - (time.monotonic() - started)
        if wait > 0:
            time.sleep(wait)
        return 200, {"id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()),
                     "model": body.get("model", "stub"), "choices": [choice],
                     "usage": {"prompt_tokens": prompt_tokens,
                               "completion_tokens": completion_tokens,
                               "total_tokens": prompt_tokens + completion_tokens}}

    def call_seconds(self, input_tokens: int, output_tokens: int) -> float:
        """How long a call with these tokens takes (the latency model)."""
        return (self.latency
                + (input_tokens / self.input_tokens_per_s if self.input_tokens_per_s else 0.0)
                + (output_tokens / self.output_tokens_per_s if self.output_tokens_per_s else 0.0))


def main() -> None:
    """`python -m flashnews.testing --port N`: run a stub server until killed."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--input-tokens-per-s", type=float, default=0.0)
    parser.add_argument("--output-tokens-per-s", type=float, default=0.0)
    parser.add_argument("--fail", action="append", default=[], help="kind=status, e.g. writer=500")
    args = parser.parse_args()
    fail = {k: int(v) for k, v in (f.split("=") for f in args.fail)}
    stub = StubServer(latency=args.latency, fail=fail, port=args.port,
                      input_tokens_per_s=args.input_tokens_per_s,
                      output_tokens_per_s=args.output_tokens_per_s).start()
    print(stub.base_url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
