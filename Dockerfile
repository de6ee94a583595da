# k6bot: one process with the Slack HTTP endpoint, MCP at /mcp, the k6 webhook, /healthz, /metrics and the watcher.
#
#   docker build -t k6bot .
#   docker run -p 8080:8080 -v k6bot-data:/data --env-file k6bot.env k6bot
#
# State (subscriptions, watched runs, the notification outbox, confirmations, the audit log) lives in a SQLite
# file on the /data volume by default; set K6BOT_DATABASE_URL=postgresql+asyncpg://… to run several replicas.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/k6bot
ENV PATH=/opt/k6bot/bin:$PATH
WORKDIR /src
COPY pyproject.toml README* ./
COPY tools ./tools
COPY bot ./bot
RUN pip install . && pip check

FROM python:3.11-slim
ENV PATH=/opt/k6bot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    K6BOT_DATABASE_URL=/data/k6bot.db \
    FORWARDED_ALLOW_IPS=*
COPY --from=build /opt/k6bot /opt/k6bot
RUN useradd --system --uid 10001 --create-home --home-dir /home/k6bot k6bot \
    && mkdir -p /data && chown k6bot:k6bot /data
USER k6bot
WORKDIR /home/k6bot
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
# k6bot listens on 127.0.0.1 unless told otherwise; in the container it must take the published port.
CMD ["k6bot", "serve", "--host", "0.0.0.0", "--port", "8080"]
