"""The model path: structured output with one validation retry, yes/no scoring, clear errors."""

from __future__ import annotations

import httpx
import openai
import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from flashnews.config import Settings
from flashnews.errors import ModelError
from flashnews.testing import FakeChatModel, Request, StubServer, fake_factory
from flashnews.tools.llm import Models, make_chat_model
from flashnews.tools.store import Store


class Answer(BaseModel):
    value: int


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store(settings.db_path)


def test_invalid_output_is_retried_once_with_the_error(settings, store) -> None:
    replies = iter([{"value": "not a number"}, {"value": 7}])
    fake = FakeChatModel(responder=lambda req: next(replies))
    models = Models(settings, store, "e", factory=fake_factory(fake))
    assert models.structured("writer", Answer, [HumanMessage("q")], prompt_hash="p").value == 7
    assert len(fake.calls) == 2
    assert "previous answer was invalid" in fake.calls[1].messages[-1]["content"]
    assert "value" in fake.calls[1].messages[-1]["content"]
    assert store.usage("e")["writer"].calls == 2


def test_second_invalid_output_fails_the_node_clearly(settings, store) -> None:
    fake = FakeChatModel(responder=lambda req: {"wrong": 1})
    models = Models(settings, store, "e", factory=fake_factory(fake))
    with pytest.raises(ModelError, match="writer model returned invalid output twice"):
        models.structured("writer", Answer, [HumanMessage("q")], prompt_hash="p")
    assert len(fake.calls) == 2


def test_semantic_check_failures_are_fed_back(settings, store) -> None:
    replies = iter([{"value": 3}, {"value": 4}])
    fake = FakeChatModel(responder=lambda req: next(replies))
    models = Models(settings, store, "e", factory=fake_factory(fake))

    def even(a: Answer) -> None:
        if a.value % 2:
            raise ValueError("value must be even")

    assert models.structured("writer", Answer, [HumanMessage("q")], prompt_hash="p",
                             check=even).value == 4
    assert "value must be even" in fake.calls[1].messages[-1]["content"]


def test_yes_no_probability_from_top_logprobs(settings, store) -> None:
    fake = FakeChatModel(responder=lambda req: 0.8)
    models = Models(settings, store, "e", factory=fake_factory(fake))
    assert models.yes_no("triage", [HumanMessage("q")], prompt_hash="p") == pytest.approx(0.8)
    assert fake.calls[0].logprobs


def test_unreachable_endpoint_names_the_url(settings, store) -> None:
    def refuse(req: Request) -> Exception:
        return openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1"))

    models = Models(settings, store, "e", factory=fake_factory(FakeChatModel(responder=refuse)))
    with pytest.raises(ModelError, match=r"http://127\.0\.0\.1:9/v1 unreachable after 2 retries"):
        models.structured("writer", Answer, [HumanMessage("q")], prompt_hash="p")
    assert store.usage("e")["writer"].failed == 1


def test_real_client_connection_refused_after_bounded_retries(tmp_path) -> None:
    s = Settings(home=tmp_path, base_url="http://127.0.0.1:9/v1", max_retries=1,
                 request_timeout=2)
    models = Models(s, Store(s.db_path), "e")
    with pytest.raises(ModelError, match=r"127\.0\.0\.1:9/v1 unreachable after 1 retries"):
        models.structured("writer", Answer, [HumanMessage("q")], prompt_hash="p")


def test_wrong_api_key_is_clear_and_never_echoed(tmp_path) -> None:
    secret = "sk-test-abcdefghijklmnopqrstuvwxyz012345"

    class Reject(StubServer):
        def answer(self, body):  # type: ignore[override]
            return 401, {"error": {"message": f"Incorrect API key provided: {secret}",
                                   "type": "invalid_request_error"}}

    with Reject() as stub:
        s = Settings(home=tmp_path, base_url=stub.base_url, api_key=secret, max_retries=0)
        store = Store(s.db_path)
        models = Models(s, store, "e")
        with pytest.raises(ModelError) as info:
            models.structured("critic", Answer, [HumanMessage("q")], prompt_hash="p")
    message = str(info.value)
    assert "rejected the API key" in message and stub.base_url in message
    assert secret not in message and secret[:12] not in message


def test_chat_model_sends_max_tokens_llama_cpp_honours(tmp_path) -> None:
    s = Settings(home=tmp_path, base_url="http://127.0.0.1:9/v1", writer_max_tokens=123)
    model = make_chat_model(s, "writer", s.base_url or "")
    assert model.extra_body == {"max_tokens": 123}  # type: ignore[attr-defined]
    openai_model = make_chat_model(s, "writer", "https://api.openai.com/v1")
    assert openai_model.extra_body is None  # type: ignore[attr-defined]
