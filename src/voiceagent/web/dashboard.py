"""The operator dashboard at `/`. Its pages live in `web/ui`; this module keeps the app's import."""

from voiceagent.web.ui import router

__all__ = ["router"]
