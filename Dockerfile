# Agent Orchestra: one image for the web process (`orchestra serve`), the workers (`orchestra worker`)
# and the queue dashboard (`rq-dashboard`). Build: docker build -t agent-orchestra .
# Run them together with docker-compose.yml (docs/deploy.md).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# git: mirrors, worktrees, pushes; bubblewrap: the agent's command sandbox (used when the
# container may create user namespaces, else commands run unconfined: docs/security.md).
RUN apt-get update \
    && apt-get install -y --no-install-recommends git bubblewrap ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 orchestra \
    && mkdir -p /home/orchestra/state && chown orchestra:orchestra /home/orchestra/state
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY webhooks ./webhooks
COPY localhub ./localhub
COPY prompts ./prompts
RUN pip install --no-cache-dir ".[dashboard]"

USER orchestra
ENV ORCHESTRA_STATE_DIR=/home/orchestra/state
EXPOSE 8000
ENTRYPOINT ["orchestra"]
CMD ["--help"]
