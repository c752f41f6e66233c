#!/usr/bin/env python3
"""Writes the C API fuzzer's seed corpus (fuzz/corpus/capi/): sessions of
calls framed as capi_fuzzer.cc reads them. Usage: write_capi_seeds.py DIR"""
import struct
import sys

TABLES = ["src", "dim", "stage", "mart", "any", "report", "either", "below"]
PARTITIONS = ["2018-11-03", "2018-11-04", "2018-11-05"]
STATES = ["WAITING", "READY", "RUNNING", "DEAD", "BLOCKED", "PAUSED",
          "SUCCEEDED", "EXPIRED"]
CLASSES = ["etl", "adhoc"]
POOLS = ["wh", "default"]


def u8(v): return struct.pack("<B", v)
def i8(v): return struct.pack("<b", v)
def i64(v): return struct.pack("<q", v)
def u64(v): return struct.pack("<Q", v)
def text(s): b = s.encode(); return struct.pack("<H", len(b)) + b


def pick(known, value, nullable):
    if value is None:
        return u8(len(known))
    if value in known:
        return u8(known.index(value))
    return u8(255) + text(value)


def nullable_text(value):
    return u8(0) if value is None else u8(1) + text(value)


def ingest(event, table, partition, at=None, origin=None):
    return (u8(0) + text(event) + pick(TABLES, table, False) +
            pick(PARTITIONS, partition, True) + nullable_text(at) +
            nullable_text(origin))


def ingest_json(json, results=True):
    return u8(1) + text(json) + u8(1 if results else 0)


def claim(worker, maximum, pool=None, cls=None):
    filters = (1 if pool else 0) | (2 if cls else 0)
    return (u8(2) + pick(POOLS, pool, True) + pick(CLASSES, cls, True) +
            u8(filters) + i8(maximum) + text(worker))


def heartbeat_claimed(i): return u8(3) + u8(i)


def complete_claimed(i, outcome, message=None):
    return u8(4) + u8(i) + i8(outcome) + nullable_text(message)


def complete(table, partition, attempt, outcome):
    return (u8(4) + u8(255) + pick(TABLES, table, False) +
            pick(PARTITIONS, partition, True) + i64(attempt) + i8(outcome) +
            u8(0))


def history(frm, maximum): return u8(5) + i64(frm) + u64(maximum)
def status(table=None, state=None):
    return u8(6) + pick(TABLES, table, True) + pick(STATES, state, True)
def explain(table, partition):
    return u8(7) + pick(TABLES, table, False) + pick(PARTITIONS, partition, True)
def redrive(table, partition):
    return u8(8) + pick(TABLES, table, False) + pick(PARTITIONS, partition, True)
def mark_succeeded(table, partition):
    return u8(9) + pick(TABLES, table, False) + pick(PARTITIONS, partition, True)
def rerun(table, partition, descendants):
    return (u8(10) + pick(TABLES, table, False) +
            pick(PARTITIONS, partition, True) + u8(descendants))
def pause_table(table): return u8(11) + pick(TABLES, table, False)
def resume_table(table): return u8(12) + pick(TABLES, table, False)
def pause_class(cls): return u8(13) + pick(CLASSES, cls, False)
def resume_class(cls): return u8(14) + pick(CLASSES, cls, False)
def subscribe(frm): return u8(15) + i64(frm)
def unsubscribe_last(): return u8(16) + u8(1)
def null_handles(table, partition):
    return u8(17) + pick(TABLES, table, False) + pick(PARTITIONS, partition, True)
def last_sequence(): return u8(18)


SEEDS = {
    "day": [
        subscribe(1),
        ingest("e1", "src", "2018-11-03", "2018-11-04T01:00:00Z", "s3://a"),
        ingest("e1", "src", "2018-11-03"),
        ingest("e2", "dim", None),
        claim("w1", 4),
        heartbeat_claimed(0),
        complete_claimed(0, 0, "ok"),
        complete_claimed(1, 1, "retry"),
        claim("w1", 4, pool="wh", cls="etl"),
        complete_claimed(0, 2, "fatal"),
        status(state="DEAD"),
        redrive("stage", "2018-11-03"),
        history(1, 100),
        unsubscribe_last(),
        last_sequence(),
    ],
    "json_batch": [
        ingest_json('{"event_id":"e1","table":"src","partition":"2018-11-03"}\n'
                    '{"event_id":"e2","table":"dim","attributes":{"k":"v"}}\n'),
        ingest_json('[{"event_id":"e3","table":"src","partition":"2018-11-04",'
                    '"at":"2018-11-05T00:00:00Z"}]', results=False),
        claim("w2", 2),
        complete_claimed(0, 3),
        status("stage"),
        explain("mart", "2018-11-03"),
    ],
    "operators": [
        ingest("e1", "src", "2018-11-03"),
        pause_table("stage"), pause_class("adhoc"),
        claim("w", 8),
        resume_table("stage"), resume_class("adhoc"),
        mark_succeeded("stage", "2018-11-03"),
        rerun("stage", "2018-11-03", 1),
        claim("w", 8),
        explain("report", None),
        history(-5, 2 ** 64 - 1),
    ],
    "bad_calls": [
        ingest("", "nope", "2018-11-03", "yesterday"),
        ingest("e1", "dim", "2018-11-03"),
        complete("stage", "2018-11-03", 7, 9),
        complete("nope", None, -1, -1),
        status("nope", "SLEEPY"),
        claim("w", -1, pool="nope"),
        null_handles("stage", None),
        unsubscribe_last(),
    ],
}

if __name__ == "__main__":
    for name, ops in SEEDS.items():
        with open(f"{sys.argv[1]}/{name}", "wb") as f:
            f.write(b"".join(ops))
