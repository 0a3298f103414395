"""Twilio's webhooks: the voice turn and the status callback, both signature-checked."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from voiceagent.calls.turn.job import Ask
from voiceagent.providers.twilio import webhooks
from voiceagent.text import utf8_safe
from voiceagent.web.deps import Service
from voiceagent.web.inputs import ascii_int

TWIML = "application/xml"
# Twilio's forms are small, but a long speech or an add-on's JSON can push one past the generic
# 64 KB cap, and a 413 to a voice webhook ends the call. These paths take up to 1 MB; once the
# signature is checked (over every byte), each field is cut to MAX_FIELD_CHARS.
WEBHOOK_PATHS = (
    "/twilio/voice",
    "/twilio/status",
    "/twilio/dial",
    "/twilio/fallback",
    "/twilio/relay/action",
)
MAX_WEBHOOK_BYTES = 1024 * 1024
MAX_FIELD_CHARS = 8 * 1024  # past anything the service reads (SpeechResult keeps 2000)


async def signed_form(request: Request) -> dict[str, str]:
    """The form Twilio posted, after checking X-Twilio-Signature against PUBLIC_BASE_URL.

    Behind a proxy the request's own host and scheme are not what Twilio signed, so the URL is
    rebuilt from the configured public base URL. Every field is passed on untrimmed.
    """
    request.state.started = time.perf_counter()  # the turn's clock starts before any work
    form = await request.form()
    params = {key: value for key, value in form.items() if isinstance(value, str)}
    url = request.app.state.settings.public_base_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    signature = request.headers.get("x-twilio-signature", "")
    telephony = request.app.state.service.ctx.providers.telephony
    if not signature or not telephony.verify_signature(url, params, signature):
        request.app.state.service.ctx.log.warning(
            "webhook_rejected",
            reason="missing or wrong X-Twilio-Signature",
            call_sid=params.get("CallSid"),
            path=request.url.path,
        )
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid Twilio signature")
    return _readable(params, request)


# Twilio's whole-number fields. A signed request is still a client's word: a value that is not a
# plain, bounded number ("²", 2**63) is dropped so the rest of the webhook goes on.
_NUMBERS = frozenset(
    {"SequenceNumber", "CallDuration", "DialCallDuration", "Duration", "RecordingDuration"}
)


def _readable(params: dict[str, str], request: Request) -> dict[str, str]:
    odd = [key for key in _NUMBERS & params.keys() if ascii_int(params[key]) is None]
    if odd:
        request.app.state.service.ctx.log.warning(
            "webhook_fields_ignored", fields=sorted(odd), path=request.url.path
        )
    long = sorted(key for key, value in params.items() if len(value) > MAX_FIELD_CHARS)
    if long:
        request.app.state.service.ctx.log.info(
            "webhook_fields_cut", fields=[utf8_safe(k)[:64] for k in long], path=request.url.path
        )
    # A field that is not text UTF-8 can encode is kept with U+FFFD in place of what it lacked.
    return {
        utf8_safe(key[:MAX_FIELD_CHARS]): utf8_safe(value[:MAX_FIELD_CHARS])
        for key, value in params.items()
        if key not in odd
    }


SignedForm = Annotated[dict[str, str], Depends(signed_form)]
router = APIRouter(prefix="/twilio")


@router.post("/voice", response_class=Response, summary="Twilio's turn webhook (TwiML)")
async def voice(
    request: Request,
    form: SignedForm,
    service: Service,
    call_id: Annotated[str | None, Query(max_length=64)] = None,
    turn: Annotated[int | None, Query(ge=0, le=10_000)] = None,
    wait: Annotated[int, Query(ge=0, le=100)] = 0,
) -> Response:
    settings = request.app.state.settings
    ask = Ask(
        call_id=call_id,
        sid=webhooks.sid_of(form),
        number=turn,
        input=webhooks.turn_input(
            form, number=turn, gather_timeout=float(settings.gather_timeout_seconds)
        ),
        started=request.state.started,
    )
    return Response(await service.answer_turn(ask, wait=wait), media_type=TWIML)


@router.post(
    "/status",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Twilio's status callback",
)
async def call_status(
    form: SignedForm,
    service: Service,
    call_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    await service.record_status(report=webhooks.status_report(form), call_id=call_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/dial", response_class=Response, summary="A transfer's <Dial action> result")
async def dial_result(
    form: SignedForm,
    service: Service,
    call_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The `<Dial action>` of a transfer: how the transferred leg ended."""
    answer = await service.record_dial(
        call_id=call_id, sid=webhooks.sid_of(form), result=webhooks.dial_result(form)
    )
    return Response(answer, media_type=TWIML)


@router.post("/fallback", response_class=Response, summary="Twilio's FallbackUrl")
async def fallback(
    form: SignedForm,
    service: Service,
    call_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Twilio's FallbackUrl: the voice webhook failed; end the call politely."""
    answer = await service.answer_fallback(
        call_id=call_id, sid=webhooks.sid_of(form), error=webhooks.fallback_error(form)
    )
    return Response(answer, media_type=TWIML)
