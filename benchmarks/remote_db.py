"""A database across the network: a quiet `scrape once` on PostgreSQL at loopback and through a
proxy that holds every packet `--delay` ms each way (a database in the next rack or zone).

Method: N generated ESG-style boards on S sites (answers after a uniform 50–150 ms), baselined;
then quiet `scrape once` runs, alternating direct and through the proxy (one settle run each, 3
rounds, medians). The proxy (`DelayProxy`, in this process) counts round trips: each time the
client speaks after the server has — one query answered, one turn. Goals: a 2 ms-away database
≤ 1.2× loopback's wall, and ≤ 1 round trip per quiet board.

The database: `$BOARDWATCH_BENCH_PG_URL` (a server; a fresh database is made and dropped), else
`$BOARDWATCH_TEST_PG_URL`.

    python benchmarks/remote_db.py [--boards 300] [--sites 30] [--delay 2]
    python benchmarks/remote_db.py --smoke   # 150 boards on 3 sites, one round
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
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.boards, args.sites, args.rounds = 150, 3, 1
    boards = Boards(args.boards, posts=60, delay=(0.05, 0.15))
    with Sites(boards, args.sites) as sites, database() as db, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        scrape_config(work, sites.urls())
        upstream = urlsplit(db)
        proxy = DelayProxy((upstream.hostname or "127.0.0.1", upstream.port or 5432), 0.0)
        direct = {**os.environ, "SCRAPE_DATABASE_URL": db}
        remote = {**os.environ, "SCRAPE_DATABASE_URL": via(db, proxy.port)}
        cmd = [SCRAPE, "-q", "once", "--no-notify"]
        measure(cmd, work, direct)  # baselines
        proxy.delay = args.delay / 1000
        turns: list[int] = []

        def counted() -> Measure:
            before = proxy.turns
            result = measure(cmd, work, remote)
            turns.append(proxy.turns - before)
            return result

        got = alternate(
            {"loopback": lambda: measure(cmd, work, direct), "remote": counted}, args.rounds
        )
        proxy.close()
    trips = min(turns[1:] or turns) / args.boards  # the settle run aside
    slower = got["remote"].wall / got["loopback"].wall
    away = f"{args.delay:g} ms away"
    print(f"a database {away}: quiet `once` of {args.boards} boards on {args.sites} sites")
    print(
        f"  loopback {got['loopback'].wall:.2f} s, {away} {got['remote'].wall:.2f} s "
        f"(×{slower:.2f}; goal ≤ ×1.2)"
    )
    print(f"  round trips per quiet board: {trips:.2f} (goal ≤ 1; {min(turns)} in all for the run)")
    return 0 if trips <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
