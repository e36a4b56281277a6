"""smtpload.py - the benchmark's own SMTP clients (stdlib only).

Postfix's smtp-source drives every plain SMTP scenario.  This file covers
what smtp-source cannot do, each mode bounded in count and in time:

  send   N messages over S concurrent sessions, plain or after STARTTLS,
         MAIL/RCPT/DATA pipelined when the server offers PIPELINING (the
         same client for the plain and the STARTTLS run, so their ratio is
         fair); --varied sends realistic, varied messages (store seeding)
  idle   open N connections, read each banner, report "ready N", hold them
         until a line arrives on stdin (or --hold seconds), close them
  big    S sessions each send one message of SIZE bytes at the same time

Each mode prints one JSON object on stdout: what was sent, acknowledged,
how long it took, the first errors.  Loopback is assumed; nothing here is
meant to be pointed at a real mail server.
"""
import argparse
import itertools
import json
import os
import random
import selectors
import socket
import ssl
import sys
import threading
import time

CRLF = b"\r\n"

# Words for varied messages: a few common English words and syllable-built
# pseudo-words, so that a full-text index sees a realistic spread of rare
# and frequent terms.
COMMON = ("the of and to in is you that it he was for on are as with his "
          "they at be this have from or one had by word but not what all "
          "were we when your can said there use an each which she do how "
          "their if will up other about out many then them these so some "
          "her would make like him into time has look two more write go "
          "see number no way could people my than first water been call "
          "who oil its now find long down day did get come made may part "
          "invoice order shipping account password reset welcome report "
          "meeting update release build failed passed deploy review "
          "payment receipt newsletter confirm verify alert weekly").split()
FIRST = ("alice bob carol dave erin frank grace heidi ivan judy mallory "
         "niaj olivia peggy rupert sybil trent victor walter xavier yvonne "
         "zoe anna ben chloe dan emma felix gina hugo iris jack kate leo "
         "mia nate omar paula quinn rosa sam tina uma vera will").split()
LAST = ("smith jones brown taylor wilson davies evans thomas johnson "
        "roberts walker wright robinson thompson white hughes edwards "
        "green hall wood harris lewis martin jackson clarke").split()
DOMAINS = ("example.com example.org example.net test.example shop.test "
           "mail.test corp.example billing.test news.example "
           "dev.example").split()
# One seeded message in NEEDLE_EVERY carries NEEDLE in its body: the
# free-text search of the store-scale test looks for it.
NEEDLE = "quetzalcoatl"
NEEDLE_EVERY = 1000


def pseudo_words(n, rng):
    syl = ("ka ri to me na lo su vi de ra po li ne mo ta ke zu ba fi go "
           "le ru sa pe ni do").split()
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(syl)
                          for _ in range(rng.randint(2, 4))))
    return sorted(words)


_VOCAB = None


def vocab():
    global _VOCAB
    if _VOCAB is None:
        _VOCAB = COMMON + pseudo_words(3000, random.Random(42))
    return _VOCAB


def person(rng):
    f, l, d = rng.choice(FIRST), rng.choice(LAST), rng.choice(DOMAINS)
    return "%s %s" % (f.title(), l.title()), "%s.%s@%s" % (f, l, d)


def varied_message(i):
    """Message number i of the varied set: (mail_from, [rcpts], bytes).

    Deterministic in i, so mkstore.py can name an address or a word that
    is known to be in the store.  Bodies are about 1 KB.
    """
    rng = random.Random(i * 7919 + 1)
    v = vocab()
    fname, faddr = person(rng)
    rcpts = [person(rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
    cc = [person(rng)] if rng.random() < 0.2 else []
    subj = " ".join(rng.choice(v) for _ in range(rng.randint(3, 8)))
    subj = subj.capitalize() + " #%d" % i
    words = [rng.choice(v) for _ in range(rng.randint(140, 190))]
    if i % NEEDLE_EVERY == 7:
        words.insert(rng.randrange(len(words)), NEEDLE)
    lines, cur = [], ""
    for w in words:
        if len(cur) + len(w) + 1 > 72:
            lines.append(cur)
            cur = w
        else:
            cur = (cur + " " + w) if cur else w
    lines.append(cur)
    hdr = [
        "From: %s <%s>" % (fname, faddr),
        "To: " + ", ".join("%s <%s>" % r for r in rcpts),
    ]
    if cc:
        hdr.append("Cc: " + ", ".join("%s <%s>" % r for r in cc))
    day = 1 + i % 28
    hdr += [
        "Subject: " + subj,
        "Date: Mon, %d Nov 2026 %02d:%02d:%02d +0000" % (
            day, i % 24, i % 60, (i * 7) % 60),
        "Message-ID: <%d.%d@bench.example>" % (i, rng.randint(0, 1 << 30)),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
    ]
    text = CRLF.join(s.encode() for s in hdr + [""] + lines) + CRLF
    return faddr, [r[1] for r in rcpts] + [c[1] for c in cc], text


def plain_message(size):
    """A message with a body of about size octets, smtp-source style."""
    hdr = (b"From: <bench@bench.test>\r\nTo: <sink@bench.test>\r\n"
           b"Subject: bench\r\n\r\n")
    line = b"La la la la la la la la la la la la la la la la la la la la"
    line += b" la la la la la la la la la la la la la la la\r\n"  # 78+2
    body = line * (size // len(line))
    rest = size - len(body)
    if rest >= 2:
        body += b"x" * (rest - 2) + CRLF
    return hdr + body


def dotstuff(data):
    if data.startswith(b"."):
        data = b"." + data
    return data.replace(b"\n.", b"\n..")


class SmtpError(Exception):
    pass


class Client:
    """One blocking SMTP connection."""

    def __init__(self, port, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.rfile = self.sock.makefile("rb")
        self.ext = set()

    def reply(self):
        lines = []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                raise SmtpError("connection closed by server")
            lines.append(line.rstrip(b"\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                break
        code = int(lines[-1][:3])
        return code, lines

    def expect(self, want, what):
        code, lines = self.reply()
        if code // 100 != want // 100:
            raise SmtpError("%s: %s" % (what, lines[-1].decode("latin-1")))
        return code, lines

    def ehlo(self):
        self.sock.sendall(b"EHLO bench.test\r\n")
        _, lines = self.expect(250, "EHLO")
        self.ext = {l[4:].split(b" ")[0].upper().decode() for l in lines[1:]}

    def starttls(self, ctx):
        if "STARTTLS" not in self.ext:
            raise SmtpError("server does not offer STARTTLS")
        self.sock.sendall(b"STARTTLS\r\n")
        self.expect(220, "STARTTLS")
        self.sock = ctx.wrap_socket(self.sock)
        self.rfile = self.sock.makefile("rb")
        self.ehlo()

    def send(self, mail_from, rcpts, data, stuffed=False):
        """Send one transaction; returns the 250 line after the data."""
        cmds = [b"MAIL FROM:<%s>\r\n" % mail_from.encode()]
        cmds += [b"RCPT TO:<%s>\r\n" % r.encode() for r in rcpts]
        cmds.append(b"DATA\r\n")
        if "PIPELINING" in self.ext:
            self.sock.sendall(b"".join(cmds))
            for c in cmds[:-1]:
                self.expect(250, c.split(b":")[0].decode())
        else:
            for c in cmds[:-1]:
                self.sock.sendall(c)
                self.expect(250, c.split(b":")[0].decode())
            self.sock.sendall(cmds[-1])
        self.expect(354, "DATA")
        self.sock.sendall((data if stuffed else dotstuff(data)) + b".\r\n")
        _, lines = self.expect(250, "end of data")
        return lines[-1].decode("latin-1")

    def quit(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.reply()
        except (OSError, SmtpError):
            pass
        self.sock.close()


def queued_id(line):
    """The id in "250 2.0.0 Ok: queued as 123", or None."""
    w = line.rsplit(" ", 1)[-1]
    return int(w) if w.isdigit() else None


def cmd_send(a):
    ctx = None
    if a.starttls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    fixed = dotstuff(plain_message(a.size)) if not a.varied else None
    tickets = itertools.count()
    lock = threading.Lock()
    st = {"acked": 0, "sent": 0, "errors": [], "ids": [], "bytes": 0}
    deadline = time.monotonic() + a.timeout

    def take():
        with lock:
            n = next(tickets)
        return n if n < a.count and time.monotonic() < deadline else None

    def worker():
        c, on_conn = None, 0
        try:
            while True:
                if c is None:
                    on_conn = 0
                    n = take()
                    if n is None:
                        return
                    c = Client(a.port, 60)
                    c.expect(220, "banner")
                    c.ehlo()
                    if ctx is not None:
                        c.starttls(ctx)
                else:
                    n = take()
                    if n is None:
                        break
                if a.varied:
                    frm, rcpts, data = varied_message(a.first + n)
                    stuffed = False
                else:
                    frm, rcpts, data = ("bench@bench.test",
                                        ["sink@bench.test"], fixed)
                    stuffed = True
                with lock:
                    st["sent"] += 1
                line = c.send(frm, rcpts, data, stuffed)
                with lock:
                    st["acked"] += 1
                    st["bytes"] += len(data)
                    qid = queued_id(line)
                    if qid is not None and a.ids:
                        st["ids"].append(qid)
                on_conn += 1
                if a.per_conn and on_conn >= a.per_conn:
                    c.quit()
                    c = None
        except (OSError, SmtpError, ValueError) as e:
            with lock:
                if len(st["errors"]) < 10:
                    st["errors"].append(str(e))
            if c is not None:
                c.sock.close()
            c = None
            return
        if c is not None:
            c.quit()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(a.sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic() + 5))
    st["elapsed"] = time.monotonic() - t0
    if time.monotonic() > deadline:
        st["errors"].append("deadline of %gs reached" % a.timeout)
    if not a.ids:
        del st["ids"]
    print(json.dumps(st), flush=True)
    return 0 if st["acked"] == a.count and not st["errors"] else 1


def cmd_idle(a):
    """Open a.count connections, read each banner, hold, close."""
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    deadline = t0 + a.timeout
    opened, ready, errors, socks = 0, 0, [], []
    pending = 0
    while ready < a.count and time.monotonic() < deadline:
        while opened < a.count and pending < a.window:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect_ex(("127.0.0.1", a.port))
            except OSError as e:
                errors.append(str(e))
                s.close()
                break
            sel.register(s, selectors.EVENT_READ)
            socks.append(s)
            opened += 1
            pending += 1
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            try:
                b = s.recv(512)
            except OSError as e:
                b = b""
                if len(errors) < 10:
                    errors.append(str(e))
            if b.startswith(b"220"):
                ready += 1
            elif len(errors) < 10:
                errors.append("no banner: %r" % b[:60])
        if errors and opened == len(errors):
            break
    print(json.dumps({"ready": ready, "opened": opened,
                      "elapsed": time.monotonic() - t0,
                      "errors": errors[:10]}), flush=True)
    # Hold until told (a line on stdin) or until the hold time runs out.
    r, _, _ = select_stdin(a.hold)
    for s in socks:
        s.close()
    return 0 if ready == a.count else 1


def select_stdin(timeout):
    import select
    r = select.select([sys.stdin], [], [], timeout)
    if r[0]:
        sys.stdin.readline()
    return r


def cmd_big(a):
    """a.sessions clients each send one a.size-octet message at once."""
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, " \
           b"sed do eiusmod tempor\r\n"
    chunk = line * ((1 << 20) // len(line))
    hdr = b"From: <big@bench.test>\r\nTo: <sink@bench.test>\r\n" \
          b"Subject: big\r\n\r\n"
    st = {"acked": 0, "errors": [], "ids": []}
    lock = threading.Lock()
    barrier = threading.Barrier(a.sessions, timeout=30)

    def worker():
        try:
            c = Client(a.port, 120)
            c.expect(220, "banner")
            c.ehlo()
            barrier.wait()
            c.sock.sendall(b"MAIL FROM:<big@bench.test>\r\n")
            c.expect(250, "MAIL")
            c.sock.sendall(b"RCPT TO:<sink@bench.test>\r\n")
            c.expect(250, "RCPT")
            c.sock.sendall(b"DATA\r\n")
            c.expect(354, "DATA")
            # Exactly a.size octets: header, whole chunks, whole lines,
            # then one short line to make up the rest.
            c.sock.sendall(hdr)
            sent = len(hdr)
            while sent + len(chunk) <= a.size:
                c.sock.sendall(chunk)
                sent += len(chunk)
            n = (a.size - sent) // len(line)
            rest = a.size - sent - n * len(line)
            if rest == 1 and n > 0:  # a 1-octet line cannot end in CRLF
                n -= 1
                rest += len(line)
            tail = line * n
            if rest >= 2:
                tail += b"x" * (rest - 2) + CRLF
            c.sock.sendall(tail + b".\r\n")
            _, lines = c.expect(250, "end of data")
            with lock:
                st["acked"] += 1
                qid = queued_id(lines[-1].decode("latin-1"))
                if qid is not None:
                    st["ids"].append(qid)
            c.quit()
        except (OSError, SmtpError, threading.BrokenBarrierError) as e:
            with lock:
                st["errors"].append(str(e))

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(a.sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.timeout)
    st["elapsed"] = time.monotonic() - t0
    print(json.dumps(st), flush=True)
    return 0 if st["acked"] == a.sessions else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("send")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--varied", action="store_true")
    p.add_argument("--first", type=int, default=0,
                   help="number of the first varied message")
    p.add_argument("--per-conn", type=int, default=0,
                   help="messages per connection (0: no limit)")
    p.add_argument("--ids", action="store_true",
                   help="report the ids of 'queued as ID' replies")
    p.add_argument("--timeout", type=float, default=300)
    p = sub.add_parser("idle")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--window", type=int, default=256,
                   help="connections awaiting their banner at once")
    p.add_argument("--hold", type=float, default=60)
    p.add_argument("--timeout", type=float, default=120)
    p = sub.add_parser("big")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--sessions", type=int, default=4)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    return {"send": cmd_send, "idle": cmd_idle, "big": cmd_big}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
