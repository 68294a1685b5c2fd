# kalshi-core with its plugins, installed from a wheelhouse built beforehand: the build itself
# needs no network and no compiler. See docs/docker.md.
#
#   python3.11 -m pip wheel --wheel-dir wheelhouse . ./plugins/*/     # core, plugins, dependencies
#   docker build -t kalshi-core .                                 # BASE_IMAGE: Python 3.11
#   docker run --rm -v kalshi-data:/data kalshi-core run --cycles 50
#
# BASE_IMAGE needs python3 with the venv module, of the same minor version as the wheelhouse
# (the wheels of asyncpg, greenlet, ... are built per Python version).
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---- install: a virtual environment from the wheelhouse, without pip in the end ----------------
FROM ${BASE_IMAGE} AS install
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_NO_INDEX=1
COPY wheelhouse /wheelhouse
# Every wheel in the wheelhouse named kalshi_* is a distribution of this project: the core and
# each plugin. Their dependencies come from the same folder (--no-index: nothing is downloaded).
RUN python3 -m venv /opt/kalshi-core \
    && /opt/kalshi-core/bin/pip install --no-index --find-links /wheelhouse /wheelhouse/kalshi_*.whl \
    && /opt/kalshi-core/bin/pip uninstall --yes pip \
    && /opt/kalshi-core/bin/kalshi-core version

# ---- runtime: the base image plus the virtual environment, nothing else -------------------------
FROM ${BASE_IMAGE}
ENV PATH=/opt/kalshi-core/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    # platformdirs puts the SQLite file and the local exchange's dev key under
    # $XDG_DATA_HOME/kalshi-core, i.e. /data/kalshi-core: the volume below.
    XDG_DATA_HOME=/data
COPY --from=install /opt/kalshi-core /opt/kalshi-core
# Settings and secrets are mounted, never baked in: /etc/kalshi-core/settings.toml with
# KALSHI_SETTINGS_FILE pointing at it, and .secrets.toml beside it.
RUN groupadd --system --gid 10001 kalshi \
    && useradd --system --uid 10001 --gid kalshi --home-dir /home/kalshi --create-home kalshi \
    && mkdir -p /data /etc/kalshi-core \
    && chown kalshi:kalshi /data
USER 10001:10001
WORKDIR /home/kalshi
VOLUME ["/data"]
# `kalshi-core run` finishes the current cycle on SIGTERM, settles every order whose outcome is
# unknown and prints its report: give it time with `docker stop --time 30`.
STOPSIGNAL SIGTERM
# Healthy while `kalshi-core run` serves /healthz with a recent cycle (monitoring.port, 9464 by
# default, on the container's loopback): a 503 (no cycle for monitoring.max_cycle_age_seconds)
# or no answer makes the check fail.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('KALSHI_MONITORING__PORT', '9464'), timeout=4)"]
ENTRYPOINT ["kalshi-core"]
CMD ["run"]
