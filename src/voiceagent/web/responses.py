"""JSON responses that always encode, whatever text they carry."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse

from voiceagent.text import utf8_safe


class Utf8JSONResponse(JSONResponse):
    """Starlette's JSONResponse raises on a lone surrogate (a lead an older version stored, a
    refused field echoed in a 422); this one answers with U+FFFD in its place."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return utf8_safe(text).encode("utf-8")
