"""voiceagent: an outbound AI calling agent driven by a six-state sales funnel."""

__version__ = "0.1.0"
