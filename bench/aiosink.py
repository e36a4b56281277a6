"""aiosink.py - aiosmtpd as a discarding peer for the benchmark.

Runs aiosmtpd's SMTP protocol with a handler that counts messages and
keeps nothing, on 127.0.0.1:PORT, with no size limit (so the 50 MB test
is not refused).  Prints "listening: smtp 127.0.0.1:PORT" once bound and
"count N" when stopped by SIGTERM or SIGINT.  Must run under the Python
that has python3-aiosmtpd (Debian's /usr/bin/python3).
"""
import argparse
import asyncio
import signal
import sys

from aiosmtpd.smtp import SMTP


class CountingSink:
    """Handler: accept every message, count it, drop it."""

    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 2.0.0 Ok: discarded"


async def serve(port, backlog):
    loop = asyncio.get_running_loop()
    handler = CountingSink()
    srv = await loop.create_server(
        lambda: SMTP(handler, data_size_limit=None, hostname="aiosink",
                     enable_SMTPUTF8=True),
        "127.0.0.1", port, backlog=backlog)
    print("listening: smtp 127.0.0.1:%d" % port, flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    srv.close()
    print("count %d" % handler.count, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--backlog", type=int, default=1000)
    a = ap.parse_args()
    asyncio.run(serve(a.port, a.backlog))
    return 0


if __name__ == "__main__":
    sys.exit(main())
