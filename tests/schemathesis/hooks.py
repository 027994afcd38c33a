"""Schemathesis hooks for citypeers: a serializer for JSON Lines import bodies."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def json_lines(ctx, value):
    """An import body in JSON Lines: one record per line (a list of records, or one)."""
    records = value if isinstance(value, list) else [value]
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode("utf-8")
