# Agent Orchestra: one image for the web process (`orchestra serve`) and the workers
# (`orchestra worker`). Build: docker build -t agent-orchestra .
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends git bubblewrap ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 orchestra
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY webhooks ./webhooks
COPY localhub ./localhub
COPY prompts ./prompts
RUN pip install --no-cache-dir .

USER orchestra
ENV ORCHESTRA_STATE_DIR=/home/orchestra/state
ENTRYPOINT ["orchestra"]
CMD ["--help"]
