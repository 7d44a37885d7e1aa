"""Kill soak: `scrape once` killed with SIGKILL, again and again, while it crawls and delivers;
then how many (post, target) pairs reached their target twice, and whether any was lost.

Method: a local ESG-style board and a local SMTP server run in this process; four subscribers,
one email target each. Each round publishes one to three posts, starts `scrape once`, and kills
it (SIGKILL) — at a random moment of a run (`--when random`, uniform over the length a clean run
takes), or the moment the SMTP server has accepted a digest (`--when accepted`: a watcher kills
the process as soon as a message is stored, the worst case: the target said yes and the run has
not recorded it yet). A clean run at the end delivers what is left. Every post must reach every
target at least once (lost: 0); a pair that arrived twice is a duplicate. Exits 1 on a loss.

    python benchmarks/kill_soak.py                    # 100 kills at random moments
    python benchmarks/kill_soak.py --when accepted    # 100 kills right after a digest's 250
    python benchmarks/kill_soak.py --smoke            # seconds: 5 kills
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.board import BoardServer, EsgBoard, Post  # noqa: E402
from tests.support.mail import SmtpSink  # noqa: E402

SCRAPE = shutil.which("scrape", path=str(Path(sys.executable).parent)) or "scrape"


def config(server: BoardServer, smtp: SmtpSink, targets: list[str], senders: int) -> str:
    subs = "".join(
        f'\n[[subscribers]]\nname = "{t}"\nurls = ["{smtp.url(f"{t}@example.com")}"]\n'
        for t in targets
    )
    return (
        f"[crawl]\nretries = 0\n[notify]\nsend_concurrency = {senders}\n\n"
        f'[[boards]]\nname = "esg"\nurl = "{server.list_url}"\n{subs}'
    )


def tally(smtp: SmtpSink, posts: list[Post]) -> tuple[Counter[tuple[int, str]], int]:
    """How often each (post, target) pair arrived (an email carries each post's link twice),
    and how many digests held nothing their target had not had already (sent again whole)."""
    found: Counter[tuple[int, str]] = Counter()
    repeats = 0
    for message in list(smtp.messages):
        body = message.get_body(("html",))
        html = body.get_content() if body is not None else ""
        held = [post.id for post in posts if f"no={post.id}&amp;page" in html]
        to = str(message["To"])
        repeats += bool(held) and all(found[(post, to)] for post in held)
        for post in held:
            found[(post, to)] += 1
    return found, repeats


def killed_when_accepted(
    proc: subprocess.Popen[bytes], smtp: SmtpSink, stop: float, after: float
) -> bool:
    """Kill `proc` `after` seconds after the server stored a message (the sender has its 250
    at the same moment); False if none came before `stop`."""
    seen = len(smtp.messages)
    while time.monotonic() < stop and proc.poll() is None:
        if len(smtp.messages) > seen:
            time.sleep(after)
            proc.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.0002)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--when", choices=("random", "accepted"), default="random")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--targets", type=int, default=16, help="subscribers, an email each")
    parser.add_argument("--after", type=float, default=0.0, help="ms from 250 to the kill")
    parser.add_argument("--senders", type=int, default=8, help="[notify] send_concurrency")
    parser.add_argument("--smoke", action="store_true", help="5 kills")
    args = parser.parse_args()
    if args.smoke:
        args.kills, args.targets = 5, 4
    targets = [f"t{i}" for i in range(args.targets)]
    rng = random.Random(args.seed)
    board = EsgBoard(posts=60)
    with BoardServer(board) as server, SmtpSink() as smtp, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "scrape.toml").write_text(
            config(server, smtp, targets, args.senders), encoding="utf-8"
        )
        env = {**os.environ, "SCRAPE_CONFIG": str(work / "scrape.toml"), "SCRAPE_DATABASE_URL": ""}
        run = [SCRAPE, "-q", "once"]
        subprocess.run(run, cwd=work, env=env, check=True)  # the baseline
        published: list[Post] = []
        board_lock = threading.Lock()

        def publish() -> None:
            with board_lock:
                published.extend(
                    board.add(f"kill soak post {len(published) + i}")
                    for i in range(rng.randint(1, 3))
                )

        publish()
        started = time.monotonic()
        subprocess.run(run, cwd=work, env=env, check=True)
        clean = time.monotonic() - started  # how long a run that sends takes
        kills = 0
        while kills < args.kills:
            publish()
            proc = subprocess.Popen(run, cwd=work, env=env, stderr=subprocess.DEVNULL)
            if args.when == "accepted":
                hit = killed_when_accepted(proc, smtp, time.monotonic() + 30, args.after / 1000)
            else:
                time.sleep(rng.uniform(0, clean))
                hit = proc.poll() is None
                if hit:
                    proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += hit
        subprocess.run(run, cwd=work, env=env, check=True)  # what the kills left is delivered
        got, repeats = tally(smtp, published)
        pairs = [(post.id, f"{t}@example.com") for post in published for t in targets]
        lost = sum(1 for pair in pairs if got[pair] == 0)
        doubled = sum(got[pair] - 1 for pair in pairs if got[pair] > 1)
        print("kill soak: `scrape once` killed with SIGKILL while it crawls and delivers")
        when = args.when + (f" + {args.after:g} ms" if args.when == "accepted" else "")
        when += f", {args.senders} sender(s)"
        print(
            f"  method: {kills} kills ({when}), a clean sending run taking {clean:.2f} s; "
            f"{len(published)} posts x {len(targets)} email targets = {len(pairs)} pairs"
        )
        print(
            f"  duplicated pairs: {doubled} ({100 * doubled / max(kills, 1):.1f} per 100 kills); "
            f"digests sent again whole: {repeats} ({100 * repeats / max(kills, 1):.1f} per 100 "
            f"kills); lost pairs: {lost}; digests received: {len(smtp.messages)}"
        )
        print(f"  result: {'PASS' if lost == 0 else 'FAIL'}")
        return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
