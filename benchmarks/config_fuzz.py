"""A fuzz sweep of configs through `scrape check` and then `scrape once`: a config `check`
passes must not fail its first run for a config reason, nor crash, nor hang.

Method: a good config (one board served by a local board server, one subscriber on a local SMTP
sink, a custom profile, metrics, feeds) is mutated: each leaf given each hostile value of a pool
(wrong types, out-of-range numbers, hostile text, paths that cannot be written, templates and
patterns that cannot run), then random mutations of one to three leaves (a value swapped, a key
dropped, an unknown key added, a template override that fails). Each config goes through the
real `scrape check` (a fresh process); each one it passes goes through the real `scrape once`.
Counted: tracebacks (in any output), hangs (a command past its time limit), exits other than
0/2 from check, and configs check passes that `once` then refuses (exit 2) or fails for a
reason that is the config's (not a refused connection to a deliberately unreachable target).

    python benchmarks/config_fuzz.py --count 600 --seed 27
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import SCRAPE  # noqa: E402
from tests.scheduler.test_config_fuzz import GOOD, POOL, drop, leaves, put, toml  # noqa: E402
from tests.support.board import BoardServer, EsgBoard  # noqa: E402
from tests.support.mail import SmtpSink  # noqa: E402

# What a run may fail on that is the world's, not the config's: a target or site the mutation
# made unreachable on purpose (a port nothing listens on), a board that answers nothing.
OPERATIONAL = (
    "refused the connection",
    "connection refused",
    "did not answer within",
    "timed out",
    "not found (DNS)",
    "host not found",
    "authentication refused",
    "HTTP 4",
    "HTTP 5",
    "found no post",
    "robots.txt disallows",
)
TEMPLATE = "__digest_template__"  # a case's template override (not a config key)
BROKEN_TEMPLATES = ("{{ 1 // 0 }}", "{{ nope.missing() }}", "{% for x in 3 %}{% endfor %}", "{{")


def configs(rng: random.Random, count: int, board: str, smtp: str) -> list[tuple[str, dict]]:
    """`count` configs: the good one given each hostile value per leaf, then random ones."""
    good = copy.deepcopy(GOOD)
    good["boards"][0]["url"] = board
    good["subscribers"][0]["urls"] = [smtp]
    good["subscribers"][0]["keywords"] = []
    good["subscribers"][0]["quiet_hours"] = None
    good["subscribers"][0].pop("quiet_hours")
    paths = leaves(good)
    found: list[tuple[str, dict]] = [("good", good)]
    per_leaf = [(path, value) for path in paths for value in POOL]
    rng.shuffle(per_leaf)
    for path, value in per_leaf[: count // 2]:
        data = copy.deepcopy(good)
        put(data, path, value)
        found.append((f"{'.'.join(map(str, path))}={str(value)[:24]!r}", data))
    while len(found) < count:
        data, what = copy.deepcopy(good), []
        for _ in range(rng.choice((1, 1, 2, 3))):
            path, roll = rng.choice(paths), rng.random()
            if roll < 0.7:
                value = rng.choice(POOL)
                put(data, path, value)
                what.append(f"{'.'.join(map(str, path))}={str(value)[:16]!r}")
            elif roll < 0.85:
                drop(data, path)
                what.append(f"-{'.'.join(map(str, path))}")
            elif roll < 0.93:
                data.setdefault("notify", {})["templates"] = "templates"
                data[TEMPLATE] = rng.choice(BROKEN_TEMPLATES)
                what.append(f"template {data[TEMPLATE]!r}")
            else:
                put(data, (*path[:-1], "colour"), 1) if isinstance(path[-1], str) else None
                what.append(f"+{'.'.join(map(str, path[:-1]))}.colour")
        found.append((" ".join(what), data))
    return found


def run(args: list[str], cwd: Path, timeout: float) -> tuple[int | None, str]:
    env = {**os.environ, "SCRAPE_CONFIG": str(cwd / "scrape.toml")}
    env.pop("SCRAPE_DATABASE_URL", None)
    try:
        done = subprocess.run(
            [SCRAPE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None, ""
    return done.returncode, done.stdout + done.stderr


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--seed", type=int, default=27)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    tally: Counter[str] = Counter()
    problems: list[str] = []
    with BoardServer(EsgBoard(posts=60)) as server, SmtpSink() as smtp:
        cases = configs(rng, options.count, server.list_url, smtp.url())
        for name, data in cases:
            with tempfile.TemporaryDirectory() as folder:
                where = Path(folder)
                template = data.pop(TEMPLATE, None)
                if template is not None:
                    (where / "templates").mkdir()
                    (where / "templates" / "digest.html.j2").write_text(template, "utf-8")
                (where / "scrape.toml").write_text(toml(data), "utf-8")
                code, said = run(["check"], where, 60)
                tally["configs"] += 1
                if code is None:
                    tally["check hangs"] += 1
                    problems.append(f"check hung: {name}")
                    continue
                if "Traceback" in said:
                    tally["tracebacks"] += 1
                    problems.append(f"check traceback: {name}")
                if code not in (0, 2):
                    tally["check exit other than 0/2"] += 1
                    problems.append(f"check exit {code}: {name}: {said[-200:]}")
                if code != 0:
                    tally["refused by check"] += 1
                    continue
                tally["passed by check"] += 1
                code, said = run(["-q", "once"], where, 120)
                if code is None:
                    tally["once hangs"] += 1
                    problems.append(f"once hung: {name}")
                elif "Traceback" in said:
                    tally["tracebacks"] += 1
                    problems.append(f"once traceback: {name}")
                elif code == 2 or (code == 1 and not _operational(said)):
                    tally["passed by check, failed by once for the config"] += 1
                    problems.append(f"once exit {code}: {name}: {said.strip()[-300:]}")
                else:
                    tally[f"once exit {code}"] += 1
    print(json.dumps(dict(tally), indent=1))
    for line in problems:
        print(line)
    return 1 if problems else 0


def _operational(said: str) -> bool:
    lines = [line for line in said.splitlines() if "ERROR" in line or "error" in line]
    return all(any(word in line for word in OPERATIONAL) for line in lines)


if __name__ == "__main__":
    sys.exit(main())
