"""A local server speaking OpenAI's Chat Completions wire protocol, for the real `openai` SDK.

openai 3.x ships its own HTTP stack, so transport mocks cannot stand in for the API: tests and
benchmarks serve this app with uvicorn on loopback and point the SDK at `{base_url}/v1`.
Latency and faults are set at run time through `emulator.behaviour` (a mutable dataclass), and
every request received is kept in `emulator.requests` for assertions.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Messages = Sequence[Mapping[str, Any]]

_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("invalid_request_error", "Invalid request.", None),
    401: ("invalid_request_error", "Incorrect API key provided.", "invalid_api_key"),
    403: ("invalid_request_error", "You are not allowed to use this model.", None),
    404: ("invalid_request_error", "The model does not exist.", "model_not_found"),
    429: ("requests", "Rate limit reached for requests. Please try again.", "rate_limit_exceeded"),
    500: ("server_error", "The server had an error while processing your request.", None),
    503: ("server_error", "The engine is currently overloaded, please try again later.", None),
}
_HANG_LIMIT = 60.0  # a hung request still ends, so a forgotten client cannot block shutdown
_QUOTED_QUESTION = re.compile(r'"([^"]{3,200}\?)"')
_TOKEN = re.compile(r"\s*\S+")
_SCRIPT_FACT = re.compile(r'fact from the script[^:]*: "([^"]{3,300})"')


@dataclass
class OpenAIBehaviour:
    """How the emulator answers; change the fields at any time, the next request obeys them."""

    first_token_delay: float = 0.0  # seconds before the first byte of the answer
    total_duration: float = 0.0  # seconds until the last token; the rest are spread evenly
    reply: str | Callable[[Messages], str] | None = None  # None: a line built from the prompt
    intent: str = "interested"  # the label a JSON (classification) request gets
    json_reply: str | None = None  # raw content for JSON requests, to send broken documents
    fail_status: int | None = None  # answer failing requests with this status and error body
    fail_rate: float = 1.0  # the share of requests that fail when fail_status is set
    fail_count: int | None = None  # stop failing after this many failures (None: never stop)
    retry_after: float | None = None  # a Retry-After header on failures
    hang: bool = False  # accept the request and never answer
    malformed: bool = False  # streams: broken SSE after the first chunk; JSON: a broken body
    reject_json_schema: bool = False  # 400 on response_format json_schema, like some servers
    seed: int = 0  # fail_rate draws from random.Random(seed): runs are reproducible


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    body: dict[str, Any]
    authorization: str
    at: float = field(default_factory=time.monotonic)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def prompt(self) -> str:
        """Every message's text, joined: what a test greps for script content."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)


class OpenAIEmulator:
    def __init__(
        self,
        behaviour: OpenAIBehaviour | None = None,
        *,
        api_key: str | None = None,
        model: str = "gpt-4o-mini",
    ) -> None:
        self.api_key = api_key or "sk-emulator-" + secrets.token_hex(12)
        self.model = model
        self.behaviour = behaviour or OpenAIBehaviour()
        self.requests: list[ReceivedRequest] = []
        self._failures = 0
        self._rng = random.Random(self.behaviour.seed)
        self.app = FastAPI(
            docs_url=None,
            redoc_url=None,
            openapi_url=None,
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ],
        )

    def reset(self, behaviour: OpenAIBehaviour | None = None) -> None:
        """Forget the requests and failures so far; reseed the fault dice."""
        self.behaviour = behaviour or OpenAIBehaviour()
        self.requests.clear()
        self._failures = 0
        self._rng = random.Random(self.behaviour.seed)

    @property
    def chat_requests(self) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return secrets.compare_digest(given.encode(), f"Bearer {self.api_key}".encode())

    async def _models(self, request: Request) -> Response:
        self.requests.append(ReceivedRequest(request.url.path, {}, _auth(request)))
        if not self._authorised(request):
            return _error(401)
        model = {"id": self.model, "object": "model", "created": 0, "owned_by": "emulator"}
        return JSONResponse({"object": "list", "data": [model]})

    async def _chat(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _error(400, "We could not parse the JSON body of your request.")
        self.requests.append(ReceivedRequest(request.url.path, body, _auth(request)))
        b = self.behaviour
        if not self._authorised(request):
            return _error(401)
        if b.fail_status is not None and self._should_fail(b):
            return _error(b.fail_status, retry_after=b.retry_after)
        response_format = body.get("response_format") or {}
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        if kind == "json_schema" and b.reject_json_schema:
            return _error(400, "response_format json_schema is not supported by this model.")
        if kind == "json_object" and "json" not in json.dumps(body.get("messages", [])).lower():
            # OpenAI's own rule for JSON mode, which catches prompts that forget to ask for JSON.
            return _error(400, "'messages' must contain the word 'json' in some form.")
        if b.hang:
            await _until_disconnected(request, _HANG_LIMIT)
            return Response(status_code=504)
        messages = body.get("messages", [])
        if kind in ("json_schema", "json_object"):
            text = b.json_reply if b.json_reply is not None else json.dumps({"intent": b.intent})
        elif callable(b.reply):
            text = b.reply(messages)
        else:
            text = b.reply if b.reply is not None else default_reply(messages)
        model = str(body.get("model", self.model))
        if body.get("stream"):
            return StreamingResponse(self._stream(text, model, b), media_type="text/event-stream")
        await asyncio.sleep(max(b.first_token_delay, b.total_duration))
        if b.malformed:
            return Response('{"id": "chatcmpl-broken", "choices": [', media_type="application/json")
        return JSONResponse(_completion(text, model))

    def _should_fail(self, b: OpenAIBehaviour) -> bool:
        if b.fail_count is not None and self._failures >= b.fail_count:
            return False
        if b.fail_rate < 1.0 and self._rng.random() >= b.fail_rate:
            return False
        self._failures += 1
        return True

    async def _stream(self, text: str, model: str, b: OpenAIBehaviour) -> AsyncIterator[str]:
        chunk_id = "chatcmpl-" + secrets.token_hex(8)
        started = time.monotonic()
        await asyncio.sleep(b.first_token_delay)
        yield _sse(_chunk(chunk_id, model, {"role": "assistant", "content": ""}))
        if b.malformed:
            yield 'data: {"id": "' + chunk_id + '", "choices": [{"delta": {"content": "Hel\n\n'
            return
        tokens = _TOKEN.findall(text) or [""]
        rest = max(b.total_duration - b.first_token_delay, 0.0)
        gap = rest / max(len(tokens) - 1, 1)
        for i, token in enumerate(tokens):
            # Sleep to an absolute schedule, so slow event-loop turns do not add up.
            due = started + b.first_token_delay + gap * i
            await asyncio.sleep(max(due - time.monotonic(), 0.0))
            yield _sse(_chunk(chunk_id, model, {"content": token}))
        yield _sse(_chunk(chunk_id, model, {}, finish_reason="stop"))
        yield "data: [DONE]\n\n"


def default_reply(messages: Messages) -> str:
    """A plausible one- or two-sentence sales line, made from the last system or user message."""
    last = next(
        (
            str(m.get("content", ""))
            for m in reversed(messages)
            if m.get("role") in ("user", "system")
        ),
        "",
    )
    # The last quoted question is the one the line should ask; earlier ones are the caller's.
    questions = _QUOTED_QUESTION.findall(last)
    # Like a model that follows the prompt: it answers with the script's fact when given one.
    fact = _SCRIPT_FACT.search(last)
    if "AI assistant" in last and "first sentence" in last:
        opener = "I'm an AI assistant."
    elif fact:
        opener = fact.group(1)
    else:
        opener = "Thanks for taking my call."
    if questions:
        return f"{opener} {questions[-1]}"
    if fact:
        return opener
    return f"{opener} I think we could save your team a lot of time on this."


async def _until_disconnected(request: Request, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not await request.is_disconnected():
        await asyncio.sleep(0.02)


def _auth(request: Request) -> str:
    return request.headers.get("authorization", "")


def _error(
    status: int, message: str | None = None, *, retry_after: float | None = None
) -> Response:
    kind, default, code = _ERRORS.get(status, ("api_error", f"Error {status}.", None))
    headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else None
    body = {"error": {"message": message or default, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _chunk(
    chunk_id: str, model: str, delta: dict[str, Any], finish_reason: str | None = None
) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_emulator",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def _completion(text: str, model: str) -> dict[str, Any]:
    words = len(text.split())
    return {
        "id": "chatcmpl-" + secrets.token_hex(8),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_emulator",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": words, "total_tokens": words},
    }


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data)}\n\n"
