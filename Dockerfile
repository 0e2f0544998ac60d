# naftiko-runtime as a container sidecar.
#
#   docker build -t naftiko-runtime .
#   docker run --rm -p 8080:8080 -p 9090:9090 -p 9464:9464 \
#     -v "$PWD/capabilities:/capabilities:ro" -e HUMANITEC_API_KEY=... naftiko-runtime
#
# Every capability file (*.yaml, *.yml) in /capabilities is served; pass file paths as the
# command to serve only some. Settings come from NAFTIKO_* variables (README: "Operating it").
# Live mode by default: a namespace whose secret is missing stops the start with its name,
# instead of quietly serving the bundled local engine (set NAFTIKO_MODE=local or auto for that).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY naftiko_runtime ./naftiko_runtime
RUN pip install ".[otel]" \
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
