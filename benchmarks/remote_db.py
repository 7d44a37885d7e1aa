"""A database across the network: a quiet `scrape once` on PostgreSQL at loopback and through a
proxy that holds every packet `--delay` ms each way (a database in the next rack or zone).

Method: N generated ESG-style boards on S sites (answers after a uniform 50–150 ms), baselined;
then quiet `scrape once` runs, alternating direct and through the proxy (one settle run each, 3
rounds, medians). The proxy (`DelayProxy`, in this process) counts round trips: each time the
client speaks after the server has — one query answered, one turn. Goals: a 2 ms-away database
≤ 1.2× loopback's wall, and ≤ 1 round trip per quiet board.

Then start-up by the config's size: a quiet `scrape once` (sending included: nothing is owed)
of one board with 1, 1,000 and 10,000 subscribers (one email target each), through the proxy:
its round trips, and its wall against loopback's. Goal: round trips the same for every size.

The database: `$BOARDWATCH_BENCH_PG_URL` (a server; a fresh database is made and dropped), else
`$BOARDWATCH_TEST_PG_URL`.

    python benchmarks/remote_db.py [--boards 300] [--sites 30] [--delay 2]
    python benchmarks/remote_db.py --smoke   # 150 boards on 3 sites, 1 round; 1, 300 subscribers
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.boardgen import Boards, Sites  # noqa: E402
from benchmarks.harness import SCRAPE, Measure, alternate, measure, scrape_config  # noqa: E402
from benchmarks.workers import database  # noqa: E402


class DelayProxy:
    """TCP from 127.0.0.1:port to `upstream`, every chunk held `delay` seconds in each direction
    (in order); counts the client's turns (round trips)."""

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream, self.delay = upstream, delay
        self.turns = 0
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        spoke = {"server": True}  # the client's first words are a turn
        await asyncio.gather(
            self._pipe(reader, up_writer, spoke, client=True),
            self._pipe(up_reader, writer, spoke, client=False),
            return_exceptions=True,
        )

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        spoke: dict[str, bool],
        *,
        client: bool,
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    writer.close()
                    return
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(deliver())
        while True:
            data = await reader.read(65536)
            if client and data and spoke["server"]:
                self.turns += 1
                spoke["server"] = False
            elif not client and data:
                spoke["server"] = True
            queue.put_nowait((time.monotonic() + self.delay, data))
            if not data:
                break
        await sender

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


def via(url: str, port: int) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, default=300)
    parser.add_argument("--sites", type=int, default=30)
    parser.add_argument("--delay", type=float, default=2.0, help="ms each way")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--subscribers", default="1,1000,10000", help="start-up: sizes")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.boards, args.sites, args.rounds, args.subscribers = 150, 3, 1, "1,300"
    boards = Boards(args.boards, posts=60, delay=(0.05, 0.15))
    with Sites(boards, args.sites) as sites, database() as db, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        scrape_config(work, sites.urls())
        cmd = [SCRAPE, "-q", "once", "--no-notify"]
        turns, got = near_and_far(cmd, work, db, args.delay, args.rounds)
    trips = min(turns[1:] or turns) / args.boards  # the settle run aside
    slower = got["remote"].wall / got["loopback"].wall
    away = f"{args.delay:g} ms away"
    print(f"a database {away}: quiet `once` of {args.boards} boards on {args.sites} sites")
    print(
        f"  loopback {got['loopback'].wall:.2f} s, {away} {got['remote'].wall:.2f} s "
        f"(×{slower:.2f}; goal ≤ ×1.2)"
    )
    print(f"  round trips per quiet board: {trips:.2f} (goal ≤ 1; {min(turns)} in all for the run)")
    sizes = [int(n) for n in args.subscribers.split(",")]
    print(f"start-up by the number of subscribers: a quiet `once` of 1 board, {away}")
    startup = [subscribers(n, args.delay, args.rounds, settle=not args.smoke) for n in sizes]
    for n, (trips_n, remote_wall, loopback_wall) in zip(sizes, startup, strict=True):
        print(
            f"  {n:,} subscriber(s): {trips_n} round trips; {away} {remote_wall:.2f} s, "
            f"loopback {loopback_wall:.2f} s (×{remote_wall / loopback_wall:.2f}; goal ≤ ×1.2)"
        )
    constant = len({trips_n for trips_n, _, _ in startup}) == 1
    print(f"  round trips the same for every size: {'yes' if constant else 'no'}")
    return 0 if trips <= 1 and constant else 1


def subscribers(count: int, delay: float, rounds: int, settle: bool) -> tuple[int, float, float]:
    """A quiet `scrape once` with `count` subscribers: its round trips through the proxy (the
    fewest of its runs), and the median wall through it and at loopback."""
    boards = Boards(1, posts=60, delay=(0.05, 0.15))
    with Sites(boards, 1) as sites, database() as db, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = scrape_config(work, sites.urls(), subscriber=False)
        with config.open("a", encoding="utf-8") as out:
            for i in range(count):  # never reached: nothing new, nothing sent
                to = f"mailto://127.0.0.1:9?from=a@example.com&to=s{i}@example.com"
                out.write(f'[[subscribers]]\nname = "s{i}"\nurls = ["{to}"]\n')
        cmd = [SCRAPE, "-q", "once"]  # its first run syncs the subscribers in
        turns, got = near_and_far(cmd, work, db, delay, rounds, settle)
    return min(turns), got["remote"].wall, got["loopback"].wall


def near_and_far(
    cmd: list[str], work: Path, db: str, delay: float, rounds: int, settle: bool = True
) -> tuple[list[int], dict[str, Measure]]:
    """`cmd` run once at loopback (the baseline), then alternately at loopback and through the
    proxy `delay` ms each way: the round trips of each run through it, and the medians."""
    upstream = urlsplit(db)
    proxy = DelayProxy((upstream.hostname or "127.0.0.1", upstream.port or 5432), 0.0)
    direct = {**os.environ, "SCRAPE_DATABASE_URL": db}
    remote = {**os.environ, "SCRAPE_DATABASE_URL": via(db, proxy.port)}
    measure(cmd, work, direct)  # the baseline
    proxy.delay = delay / 1000
    turns: list[int] = []

    def counted() -> Measure:
        before = proxy.turns
        result = measure(cmd, work, remote)
        turns.append(proxy.turns - before)
        return result

    got = alternate(
        {"loopback": lambda: measure(cmd, work, direct), "remote": counted}, rounds, settle
    )
    proxy.close()
    return turns, got


if __name__ == "__main__":
    sys.exit(main())
