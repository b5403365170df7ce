# ABC Learning Bot: the web server (`abc-bot serve`) on a slim Python image, as a non-root user.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install .
COPY data ./data

RUN useradd --system --create-home --uid 10001 abc \
    && mkdir -p /app/var && chown abc:abc /app/var
USER abc

ENV ABC_DATA_DIR=/app/data \
    DATABASE_URL=sqlite:////app/var/abc-bot.sqlite3 \
    MODEL_CACHE_DIR=/app/var/cache \
    MEDIA_DIR=/app/var/media \
    HOST=0.0.0.0 \
    PORT=8080
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request,sys; sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8080\")}/healthz', timeout=4).status == 200 else 1)"

CMD ["abc-bot", "serve"]
