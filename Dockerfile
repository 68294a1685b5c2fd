# syntax=docker/dockerfile:1
# kalshi-core with the PostgreSQL storage plugin. Default command: `kalshi-core run`, paper
# trading the bundled history on the in-process local exchange (loopback inside the container).
#
#   docker build -t kalshi-core .
#   docker run --rm -v kalshi-data:/data kalshi-core            # SQLite in the volume
#   docker run --rm kalshi-core config show                     # any sub-command

# ---- build: the two wheels -----------------------------------------------------------------
FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY config ./config
COPY kalshi_core ./kalshi_core
COPY plugins/kalshi-plugin-postgres ./plugins/kalshi-plugin-postgres
RUN pip wheel --no-deps --wheel-dir /wheels . ./plugins/kalshi-plugin-postgres

# ---- runtime ---------------------------------------------------------------------------------
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    # platformdirs puts the SQLite file and the local exchange's dev key under
    # $XDG_DATA_HOME/kalshi-core, i.e. /data/kalshi-core: the volume below.
    XDG_DATA_HOME=/data
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install /wheels/*.whl
RUN groupadd --system --gid 10001 kalshi \
    && useradd --system --uid 10001 --gid kalshi --home-dir /home/kalshi --create-home kalshi \
    && mkdir -p /data \
    && chown kalshi:kalshi /data
USER kalshi
WORKDIR /home/kalshi
VOLUME ["/data"]
HEALTHCHECK --interval=60s --timeout=10s --start-period=10s --retries=3 \
    CMD ["kalshi-core", "version"]
ENTRYPOINT ["kalshi-core"]
CMD ["run"]
