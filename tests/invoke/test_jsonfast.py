"""`jsonfast` reads integers beyond 64 bits exactly, as text or bytes, wherever they sit (orjson alone reads them as floats)."""

from __future__ import annotations

import json

import pytest

from naftiko_runtime import jsonfast

BIG = ["18446744073709551616", "-9223372036854775809", "123456789012345678901234567890"]


@pytest.mark.parametrize("number", BIG)
@pytest.mark.parametrize("shape", ['{{"n": {}}}', '[1.5, "é", {{"deep": [{}]}}]', '{{"text": "\\u00e9\\u2028", "n":{}}}'])
@pytest.mark.parametrize("as_bytes", [False, True], ids=["text", "bytes"])
def test_integers_beyond_64_bits_are_read_exactly(number: str, shape: str, as_bytes: bool) -> None:
    text = shape.format(number)
    value = jsonfast.loads(text.encode() if as_bytes else text)
    assert value == json.loads(text)
    assert str(int(number)) in json.dumps(value)  # an int, not a float that rounds it


@pytest.mark.parametrize("text", ['{"id": "ship-0001", "n": 123456789012345678}', '["1234567890", "123456789"]'])
def test_shorter_runs_of_digits_read_the_same(text: str) -> None:
    assert jsonfast.loads(text) == jsonfast.loads(text.encode()) == json.loads(text)
