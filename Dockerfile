# Agent Orchestra: one image for the web process (`orchestra serve`), the workers (`orchestra worker`)
# and the queue dashboard (`rq-dashboard`). Build: docker build -t agent-orchestra .
# Run them together with docker-compose.yml (docs/deploy.md).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# git: mirrors, worktrees, pushes. The agent's command sandbox (docs/security.md): bubblewrap when
# the container may create namespaces (Docker's default seccomp profile forbids it), else setpriv
# (util-linux, part of the base image) runs each command as its own unprivileged uid.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git bubblewrap ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && command -v setpriv

# web and dashboard run as orchestra; the worker runs as root with few capabilities (docker-compose.yml)
# and hands each agent command to a uid of its own. Those uids must reach the worktrees: the state
# dir and its parents are searchable by others (0711), not listable.
RUN useradd --create-home --uid 10001 orchestra \
    && install -d -m 0711 -o orchestra -g orchestra /home/orchestra/state && chmod 0711 /home/orchestra
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
# Liveness of the web process (`orchestra serve`): GET /healthz answers. The probe is a small module, not
# the `orchestra` CLI, which loads the model SDKs and takes seconds of CPU to start. docker-compose.yml
# gives the worker and the dashboard probes of their own (python -m bot.modes.health worker | web --url).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.modes.health", "web"]
ENTRYPOINT ["orchestra"]
CMD ["--help"]
