# naftiko-runtime as a container sidecar.
#
#   docker build -t naftiko-runtime .
#   docker run --rm -p 8080:8080 -p 9090:9090 -p 9464:9464 \
#     -v "$PWD/capabilities:/capabilities:ro" -e HUMANITEC_API_KEY=... naftiko-runtime
#
# Where no image registry is reachable, scripts/build-image.sh builds it with podman on a Debian
# (Python 3.11) base made with debootstrap: BASE_IMAGE is any image with python3 and its venv module.
#
# Every capability file (*.yaml, *.yml) in /capabilities is served; pass file paths as the
# command to serve only some. Settings come from NAFTIKO_* variables (README: "Operating it").
# Live mode by default: a namespace whose secret is missing stops the start with its name,
# instead of quietly serving the bundled local engine (set NAFTIKO_MODE=local or auto for that).
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/naftiko/bin:$PATH

# A venv of its own: works the same on python:*-slim and on Debian's python3 (which refuses a
# system-wide pip install). The dependencies are a layer of their own, so a code change rebuilds fast.
WORKDIR /src
COPY pyproject.toml ./
RUN python3 -m venv /opt/naftiko \
    && python3 -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['otel']))" > requirements.txt \
    && pip install -r requirements.txt

COPY README.md ./
COPY naftiko_runtime ./naftiko_runtime
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin naftiko \
    && mkdir -p /capabilities /data \
    && chown naftiko:naftiko /data \
    && rm -rf /src

USER naftiko
WORKDIR /home/naftiko

# Listen on every interface; JSON logs; metrics and the health probes on their own port.
ENV NAFTIKO_MODE=live \
    NAFTIKO_LOG_FORMAT=json \
    NAFTIKO_METRICS_PORT=9464 \
    NAFTIKO_DATA_DIR=/data

VOLUME ["/data"]
EXPOSE 8080 9090 9464

HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('NAFTIKO_METRICS_PORT', '9464'), timeout=2)"]

ENTRYPOINT ["naftiko", "run", "--host", "0.0.0.0"]
CMD ["/capabilities"]
