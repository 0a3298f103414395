"""A first dashboard at `/`: the latest calls and one call's transcript, server-rendered."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from voiceagent.phone import mask_phone
from voiceagent.web.deps import Authorized, Service

router = APIRouter(dependencies=[Authorized])

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>
body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1f24}}
table{{border-collapse:collapse;width:100%}}th,td{{text-align:left;padding:.35rem .6rem;
border-bottom:1px solid #ddd}}.agent{{color:#0b4f8a}}.caller{{color:#5a3e00}}
code{{background:#f3f3f3;padding:0 .25rem}}</style></head><body>{body}</body></html>"""


@router.get("/", response_class=HTMLResponse)
async def calls_page(service: Service) -> HTMLResponse:
    rows, total = await service.list_calls(limit=100, offset=0)
    lines = "".join(
        f"<tr><td>{r.created_at:%Y-%m-%d %H:%M:%S}</td><td>{escape(mask_phone(r.phone))}</td>"
        f"<td>{r.status}</td><td>{r.state}</td><td>{r.end_reason or ''}</td>"
        f"<td>{r.outcome or ''}</td><td><a href='/ui/calls/{r.id}'>{r.id[:8]}</a></td></tr>"
        for r in rows
    )
    body = (
        f"<h1>voiceagent</h1><p>{total} calls. Start one with "
        "<code>POST /call/start</code>.</p><table><thead><tr><th>started</th><th>number</th>"
        "<th>status</th><th>state</th><th>end reason</th><th>outcome</th><th>call</th></tr>"
        f"</thead><tbody>{lines}</tbody></table>"
    )
    return HTMLResponse(_PAGE.format(title="voiceagent: calls", body=body))


@router.get("/ui/calls/{call_id}", response_class=HTMLResponse)
async def call_page(call_id: str, service: Service) -> HTMLResponse:
    call = await service.get_call(call_id)
    turns = "".join(
        f"<tr class='{m.role}'><td>{m.role}</td><td>{m.state}</td><td>{m.intent or ''}</td>"
        f"<td>{escape(m.text)}</td><td>{'' if m.latency_ms is None else f'{m.latency_ms:.1f}'}"
        "</td></tr>"
        for m in call.messages
    )
    body = (
        f"<p><a href='/'>all calls</a></p><h1>Call {call.id[:8]}</h1>"
        f"<p>{escape(mask_phone(call.phone))} · {call.status} · {call.state} · "
        f"{call.end_reason or ''} {call.outcome or ''}</p><table><thead><tr><th>who</th>"
        "<th>state</th><th>intent</th><th>said</th><th>ms</th></tr></thead>"
        f"<tbody>{turns}</tbody></table>"
    )
    return HTMLResponse(_PAGE.format(title=f"voiceagent: call {call.id[:8]}", body=body))
