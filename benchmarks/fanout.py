"""Fan-out: one new post to N subscribers, each digest sent to a local SMTP server.

Method: one generated board, baselined; N subscribers with one email target each (a real SMTP
server, aiosmtpd, on loopback); one new post is queued for all with `scrape once --no-notify`;
then `scrape digest` sends the N digests, timed from start to exit (startup included).
Target: ≥ 100 digests/s.

    python benchmarks/fanout.py [--subscribers 1000]
    python benchmarks/fanout.py --smoke       # 50 subscribers
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.boardgen import BoardGenerator, Boards  # noqa: E402
from benchmarks.quiet_run import SCRAPE, timed  # noqa: E402
from tests.support.mail import SmtpSink  # noqa: E402

TARGET = 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    n = 50 if args.smoke else args.subscribers
    boards = Boards(1, posts=200)
    with BoardGenerator(boards) as gen, SmtpSink() as smtp, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subs = "".join(
            f'[[subscribers]]\nname = "s{i}"\nurls = ["{smtp.url(f"s{i}@example.com")}"]\n\n'
            for i in range(n)
        )
        (work / "scrape.toml").write_text(
            f'[[boards]]\nname = "b"\nurl = "{gen.url(0)}"\n\n{subs}', encoding="utf-8"
        )
        env = {**os.environ, "SCRAPE_DATABASE_URL": f"sqlite:///{work / 'bw.db'}"}
        base = [SCRAPE, "-q", "--config", str(work / "scrape.toml")]
        timed([*base, "once"], work, env)
        boards.add(0)
        timed([*base, "once", "--no-notify"], work, env)
        wall, rss, _ = timed([*base, "digest"], work, env)
        sent = len(smtp.messages)
    rate = sent / wall
    print("fan-out: one new post to N subscribers' email targets (local SMTP server)")
    print(
        f"  {n} subscribers: {sent} digests in {wall:.2f} s → {rate:.0f} digests/s "
        f"(target ≥ {TARGET:.0f}); peak {rss:.0f} MiB"
    )
    return 0 if sent == n and rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
