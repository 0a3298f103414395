# voiceagent: the service (API, Twilio webhooks, dashboard) on port 8000.
#   docker build -t voiceagent . && docker run -p 8000:8000 --env-file .env voiceagent
# With no configuration it runs on the embedded defaults (SQLite in /app/data, simulated carrier);
# docker-compose.yml runs it on PostgreSQL. The schema is migrated on start-up.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Only what the package needs: never a developer's .env, .venv or data/ from the build context.
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && rm -rf src

RUN groupadd --system voiceagent \
    && useradd --system --gid voiceagent --home-dir /app --no-create-home voiceagent \
    && mkdir -p /app/data \
    && chown voiceagent:voiceagent /app/data
USER voiceagent
VOLUME ["/app/data"]

EXPOSE 8000
# The slim image has no curl: the interpreter that runs the service checks it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["voiceagent", "serve", "--host", "0.0.0.0", "--port", "8000"]
