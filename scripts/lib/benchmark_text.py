#!/usr/bin/python3
"""httpkit-server's benchmark text for the scripts and Python peers.

The one definition is apps/common/benchmark_text.hpp (kSentence, kMaxBody,
kDefaultLength, body_length); this reads it from there, so the shell and
Python tests check the very bytes the server and httpkit-load use.

  benchmark_text.py [LENGTH]   prints the body for GET /?length=LENGTH
                               (no LENGTH: the default, 1024 bytes)
  import benchmark_text        SENTENCE, MAX_BODY, DEFAULT_LENGTH, body(length)
"""

import os
import re
import sys

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "apps", "common", "benchmark_text.hpp")


def _read():
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    sentence = re.search(r"kSentence\s*=\s*((?:\s*\"[^\"]*\")+)\s*;", text)
    max_body = re.search(r"kMaxBody\s*=\s*(\d+)", text)
    default = re.search(r"kDefaultLength\s*=\s*(\d+)", text)
    if not (sentence and max_body and default):
        raise SystemExit(f"benchmark_text.py: cannot read {HEADER}")
    parts = re.findall(r"\"([^\"]*)\"", sentence.group(1))
    return "".join(parts).encode(), int(max_body.group(1)), int(default.group(1))


SENTENCE, MAX_BODY, DEFAULT_LENGTH = _read()
TEXT = (SENTENCE * (MAX_BODY // len(SENTENCE) + 1))[:MAX_BODY]


def body(length=None):
    """The body for ?length=LENGTH (None: no parameter): body_length()."""
    n = DEFAULT_LENGTH if length is None else max(1, min(MAX_BODY, int(length)))
    return TEXT[:n]


if __name__ == "__main__":
    arg = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "" else None
    sys.stdout.buffer.write(body(arg))
