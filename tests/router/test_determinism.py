"""A text means the same in every process: ties (a typo as near to "help" as to "halt") are never broken by
the order string hashing gives a set, which changes with PYTHONHASHSEED from one process to the next."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TYPOS = ["halp", "strat the soak", "abrot 1234", "stpo 1234", "lsit runs", "shwo 1229", "delte test 508", "hlep"]

SCRIPT = """
import json, sys
from datetime import datetime, UTC
from bot.router.parse import parse
now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
out = []
for text in json.load(sys.stdin):
    best = parse(text, now=now, tz=UTC).best
    out.append(None if best is None else [best.intent.name, repr(sorted(best.values.items())), round(best.score, 6)])
print(json.dumps(out))
"""


def _texts() -> list[str]:
    entries = yaml.safe_load((ROOT / "tests" / "router" / "corpus.yaml").read_text(encoding="utf-8"))
    return TYPOS + [e["text"] for e in entries if isinstance(e, dict) and isinstance(e.get("text"), str)]


def _parses(seed: str, texts: list[str]) -> list[object]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "K6BOT_TIMEZONE": "UTC"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout)


def test_every_corpus_text_and_typo_parses_the_same_under_two_hash_seeds() -> None:
    texts = _texts()
    first, second = _parses("1", texts), _parses("2", texts)
    assert len(first) == len(texts)
    differ = [(t, a, b) for t, a, b in zip(texts, first, second, strict=True) if a != b]
    assert not differ, f"{len(differ)} texts parse differently from one process to another, e.g. {differ[:3]}"
    assert first[0] is not None and first[0][0] == "help"  # "halp": the read, not "halt"
