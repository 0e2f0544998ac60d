"""The access log's direct path prints the line the formatters print for the same record."""

from __future__ import annotations

import io
import json
import logging

import pytest

from naftiko_runtime import logs


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    saved = (logs.LOGGER.handlers[:], logs.LOGGER.level, logs.LOGGER.propagate, root.handlers[:], root.level,
             logs.ACCESS_LOG.handler, logs.ACCESS_LOG.json)
    yield
    logs.LOGGER.handlers[:], root.handlers[:] = saved[0], saved[3]
    logs.LOGGER.setLevel(saved[1])
    logs.LOGGER.propagate = saved[2]
    root.setLevel(saved[4])
    logs.ACCESS_LOG.install(saved[5], saved[6])


def _both(fmt: str, upstream_status: int | None, request_id: str | None) -> tuple[str, str]:
    buffer = io.StringIO()
    logs.configure(fmt, "info", stream=buffer)
    logs.SECRETS.add(["s3cr3t-token-value"])
    bound = logs.ACCESS_LOG.bind({"adapter": "rest", "method": "GET", "route": "/a/{id}\n", "operation": "op"})
    extra = {**bound[0], "status": 200, "upstream_status": upstream_status, "duration_ms": 1.25, "request_id": request_id}
    logs.LOGGER.info("request", extra=extra)
    logs.ACCESS_LOG.write(bound, 200, upstream_status, 1.25, request_id)
    first, second = buffer.getvalue().splitlines()
    return first, second


@pytest.mark.parametrize("upstream_status", [None, 201])
@pytest.mark.parametrize("request_id", [None, "abc", "x-s3cr3t-token-value"])
def test_text_line_is_the_formatters(upstream_status, request_id):
    by_logging, direct = _both("text", upstream_status, request_id)
    assert direct[8:] == by_logging[8:]  # after the HH:MM:SS stamp
    assert "s3cr3t" not in direct and "\n" not in direct


@pytest.mark.parametrize("request_id", [None, "x-s3cr3t-token-value"])
def test_json_line_is_the_formatters(request_id):
    by_logging, direct = (json.loads(line) for line in _both("json", 502, request_id))
    by_logging.pop("time"), direct.pop("time")
    assert direct == by_logging
    assert "s3cr3t" not in json.dumps(direct)


def test_level_above_info_prints_nothing():
    buffer = io.StringIO()
    logs.configure("text", "warning", stream=buffer)
    logs.ACCESS_LOG.write(logs.ACCESS_LOG.bind({"adapter": "rest"}), 200, None, 1.0, "abc")
    assert buffer.getvalue() == ""
