from voiceagent.cli import app

app()
