"""test_crash.py - crash safety (issue 6, point 3).

A "250 2.0.0 Ok: queued as N" is a promise: the server only sends it once
the message is committed.  KillTest holds it to that: four clients send
messages as fast as they can, the server is killed with SIGKILL in the
middle, restarted on the same store, and every id ever acknowledged must
be there, byte for byte as the client meant it (after dot-unstuffing),
with `PRAGMA integrity_check` saying "ok".  Ten kill/restart cycles run
on one growing store.  After each restart: every id acknowledged so far
is listed with its own subject and size (`list --json`); the messages of
the cycle just killed are compared byte for byte (`export --dir` with a
subject query: one process, not one per message); each client's last
acknowledged id and a random sample of older ones through `show --raw`;
and after the last restart the whole store, byte for byte.  A message
that was in flight when the server died may or may not be stored, but
if it is, it is whole.

StoreRefusalTest: a store that is not a store, is damaged, or comes from
a newer schema is refused at start with a message naming the file, and
the file is left exactly as it was.
"""

import hashlib
import os
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import unittest

import harness
from harness import Server, ServerTestCase, text

CYCLES = 10
MIN_ACKS = 200          # acknowledged messages per cycle before the kill
MAX_MESSAGES = 2000     # per load phase
LOAD_SECONDS = 10.0     # per load phase
CLIENTS = 4
TOKEN_RE = re.compile(rb'^X-Token: (\S+)\r\n', re.M)


PRINTABLE = bytes(32 + b % 95 for b in range(256))
HIGH = bytes(128 + b % 128 for b in range(256))


def message(rng, token):
    """A message as it should be stored: varied sizes (a few past the
    64 KiB blob pieces), lines that need dot-stuffing, 8-bit octets,
    bare LFs and NULs inside lines.  Ends with CRLF."""
    lines = [b'From: crash@example.test', b'To: sink@example.test',
             b'Subject: crash ' + token, b'X-Token: ' + token, b'']
    big = rng.random() < 0.05
    size = rng.randint(70000, 200000) if big else rng.randint(50, 6000)
    n = 0
    while n < size:
        kind = rng.random()
        if kind < 0.1:
            line = rng.choice([b'.', b'..', b'.hidden', b'...x', b'. '])
        elif kind < 0.2:
            line = rng.randbytes(rng.randint(1, 60)).translate(HIGH)
        elif kind < 0.25:
            line = b'bare\nlf and nul\0 and cr\r inside'
        elif kind < 0.27:
            line = b''
        else:
            line = rng.randbytes(rng.randint(1, 998)).translate(PRINTABLE)
        lines.append(line)
        n += len(line) + 2
    return b'\r\n'.join(lines) + b'\r\n'


def integrity(db):
    """PRAGMA integrity_check through a read-only connection."""
    con = sqlite3.connect('file:%s?mode=ro' % db, uri=True, timeout=10)
    try:
        return [r[0] for r in con.execute('PRAGMA integrity_check')]
    finally:
        con.close()


class Loader(threading.Thread):
    """One client sending messages in a loop and recording every
    acknowledged id with the exact octets it stands for."""

    def __init__(self, port, rng, prefix, state):
        super().__init__(daemon=True)
        self.port, self.rng, self.prefix = port, rng, prefix
        self.state = state
        self.acked = []         # [(id, token)]
        self.error = None       # a failure before the kill
        self.start()

    def run(self):
        st = self.state
        c = None
        try:
            c = harness.Client(self.port, timeout=10)
            c.ehlo()
            n = 0
            while not st['stop'].is_set():
                with st['lock']:
                    if st['count'] >= MAX_MESSAGES:
                        return
                    st['count'] += 1
                token = b'%s-%d' % (self.prefix, n)
                n += 1
                data = message(self.rng, token)
                with st['lock']:
                    st['sent'][token] = data
                r = c.transaction('crash@example.test',
                                  ['sink@example.test'], data)
                mid = harness.queued_id(r)
                with st['lock']:
                    self.acked.append((mid, token))
                    st['acks'] += 1
        except (AssertionError, OSError) as e:
            if not st['killed'].is_set():
                self.error = e
        finally:
            if c is not None:
                c.close()


class KillTest(ServerTestCase):
    start_server = False

    def test_sigkill_loses_nothing_acknowledged(self):
        self.expect_unclean = True      # the killed ones; the last is checked
        t_start = time.monotonic()
        work = tempfile.mkdtemp(prefix='mailsink-crash-')
        self.addCleanup(shutil.rmtree, work, True)
        db = os.path.join(work, 'crash.db')
        rng = random.Random(os.environ.get('MAILSINK_CRASH_SEED', 6))
        sent = {}               # token -> octets, every message tried
        acked = {}              # id -> token, every acknowledgement

        srv = self.start(db=db)
        for cycle in range(CYCLES):
            state = {'lock': threading.Lock(), 'stop': threading.Event(),
                     'killed': threading.Event(), 'count': 0, 'acks': 0,
                     'sent': sent}
            loaders = [Loader(srv.port, random.Random(rng.random()),
                              b'cy%02d-t%d' % (cycle, i), state)
                       for i in range(CLIENTS)]
            target = MIN_ACKS + rng.randrange(150)
            deadline = time.monotonic() + LOAD_SECONDS
            while (state['acks'] < target and time.monotonic() < deadline
                   and any(l.is_alive() for l in loaders)):
                time.sleep(0.01)
            for l in loaders:
                self.assertIsNone(l.error, 'cycle %d: client failed '
                                  'before the kill: %s' % (cycle, l.error))
            self.assertGreaterEqual(state['acks'], min(MIN_ACKS, 50),
                                    'cycle %d: too few messages went '
                                    'through' % cycle)
            state['killed'].set()
            srv.send_signal(signal.SIGKILL)
            srv.wait_exit(10)
            state['stop'].set()
            for l in loaders:
                l.join(15)
                self.assertFalse(l.is_alive(), 'client hung after the kill')
            last_acked = []
            for l in loaders:
                for mid, token in l.acked:
                    self.assertNotIn(mid, acked, 'cycle %d: id %d '
                                     'acknowledged twice' % (cycle, mid))
                    acked[mid] = token
                if l.acked:
                    last_acked.append(l.acked[-1][0])
            self.note('cycle %d: %d acked (total %d) at %.1f s'
                      % (cycle, state['acks'], len(acked),
                         time.monotonic() - t_start))

            srv = self.start(db=db)
            where = 'after kill %d' % (cycle + 1)
            self.assertEqual(integrity(db), ['ok'], where)
            self.check_listed(srv, sent, acked, where)
            self.check_exported(srv, sent, acked, where,
                                'subject:cy%02d-' % cycle)
            sample = set(last_acked) | set(rng.sample(sorted(acked),
                                                      min(8, len(acked))))
            for n in sorted(sample):
                self.assertEqual(srv.raw(n), sent[acked[n]],
                                 '%s: show --raw %d' % (where, n))

        # Once at the end: every message ever acknowledged, byte for byte.
        self.check_exported(srv, sent, acked, 'after the last restart')
        rc = srv.stop()
        self.assertEqual(rc, 0, 'last server: exit status after SIGTERM')
        self.assertEqual(integrity(db), ['ok'])
        self.note('%d cycles, %d messages acknowledged, in %.1f s'
                  % (CYCLES, len(acked), time.monotonic() - t_start))

    def check_listed(self, srv, sent, acked, where):
        """Every acknowledged id is listed with its own subject and
        size (one `list --json` for the whole store)."""
        listed = {m['id']: m for m in srv.messages()}
        missing = sorted(set(acked) - set(listed))
        self.assertEqual(missing, [], '%s: acknowledged ids missing from '
                         'the store' % where)
        for n, token in acked.items():
            m = listed[n]
            self.assertEqual((m['subject'], m['size']),
                             ('crash ' + token.decode(), len(sent[token])),
                             '%s: message %d' % (where, n))

    def check_exported(self, srv, sent, acked, where, *query):
        """`export --dir` the messages matching query: each acknowledged
        one is byte-equal to what was sent, and each other one (in flight
        at the kill) is whole."""
        out = tempfile.mkdtemp(prefix='mailsink-crash-export-')
        try:
            r = srv.cli('export', '--dir', out, *query)
            self.assertIn(r.returncode, (0, 1), text(r.stderr))
            for name in os.listdir(out):
                n = int(name[:-4])
                with open(os.path.join(out, name), 'rb') as f:
                    got = f.read()
                if n in acked:
                    want = sent[acked[n]]
                    self.assertEqual(got, want, '%s: message %d (%s) '
                                     'differs from what was sent (%d vs %d '
                                     'octets)' % (where, n, acked[n],
                                                  len(got), len(want)))
                    continue
                m = TOKEN_RE.search(got)
                self.assertIsNotNone(m, '%s: stored message %d is none '
                                     'of ours' % (where, n))
                self.assertEqual(got, sent.get(m.group(1)), '%s: message '
                                 '%d stored but not whole' % (where, n))
        finally:
            shutil.rmtree(out, True)


class StoreRefusalTest(ServerTestCase):
    start_server = False

    def setUp(self):
        super().setUp()
        self.expect_unclean = True      # refused starts exit 1
        self.dir = tempfile.mkdtemp(prefix='mailsink-refuse-')
        self.addCleanup(shutil.rmtree, self.dir, True)

    def real_store(self, name='real.db', n=30):
        """A store written and closed cleanly by mailsink itself, big
        enough to span many pages."""
        path = os.path.join(self.dir, name)
        srv = self.start(db=path)
        c = harness.Client(srv.port)
        c.ehlo()
        for i in range(n):
            c.send_message('a@b.test', ['c@d.test'], harness.simple_message(
                'm%d' % i, body='line %d\r\n' % i * 1500))
        c.quit()
        self.assertEqual(srv.stop(), 0)
        self.assertEqual(sorted(os.listdir(self.dir)), [name],
                         'store not closed cleanly')
        return path

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def digest(self, path):
        with open(path, 'rb') as f:
            return hashlib.sha256(f.read()).hexdigest()

    def assertRefused(self, path, why_re, readers_refuse=True):
        """`serve` on path exits non-zero before listening, says why,
        names the file, and leaves it as it was.  `list` leaves it as it
        was too, and refuses it (naming it) if readers_refuse."""
        before = self.digest(path)
        srv = Server(db=path)
        self.servers.append(srv)
        try:
            srv.start()
        except harness.ServerError:
            pass
        else:
            c = harness.Client(srv.port)
            c.ehlo()
            r = c.transaction('a@b.test', ['c@d.test'],
                              harness.simple_message('into a bad store'))
            c.close()
            srv.stop()
            self.fail('%s: the server started and served (a message got '
                      '%r); file %s' % (os.path.basename(path), str(r),
                                        'changed' if self.digest(path) !=
                                        before else 'unchanged'))
        self.assertNotIn(srv.returncode, (0, None))
        self.assertEqual(srv.returncode, 1, 'exit status for an unusable '
                         'store (CONTRACT: 1)')
        log = srv.log_text()
        self.assertIn(path, log, 'the message does not name the file')
        self.assertRegex(log, why_re)
        self.assertEqual(self.digest(path), before,
                         '%s was changed by a refused start' % path)
        # Readers open the store read-only: they may read what is left
        # of a damaged one, but never change it.
        r = harness.run_mailsink('list', '--db', path, cwd=self.dir)
        if readers_refuse or r.returncode != 0:
            self.assertNotEqual(r.returncode, 0, 'list on %s' % path)
            self.assertIn(path, text(r.stderr))
        self.assertEqual(self.digest(path), before,
                         '%s was changed by `mailsink list`' % path)

    def test_random_bytes(self):
        path = self.write('random.db', random.Random(1).randbytes(65536))
        self.assertRefused(path, r'not a (mailsink store|database)')

    def test_sqlite_header_then_garbage(self):
        path = self.write('header.db', b'SQLite format 3\0' +
                          random.Random(2).randbytes(65536))
        self.assertRefused(path, r'not a|damaged|malformed|corrupt')

    def test_newer_schema(self):
        path = self.real_store()
        con = sqlite3.connect(path)
        con.execute('PRAGMA user_version = 99')
        con.commit()
        con.close()
        self.assertRefused(path, r'version 99')

    def test_truncated_store(self):
        path = self.real_store()
        with open(path, 'rb') as f:
            data = f.read()
        for frac in (2, 4):
            with self.subTest(kept='1/%d' % frac):
                half = self.write('half%d.db' % frac,
                                  data[:len(data) // frac])
                self.assertRefused(half, r'damaged|malformed|corrupt|not a')

    def test_damaged_page(self):
        # A page in the middle overwritten with garbage: the header is
        # fine, so only a check of the b-trees at start can notice.
        path = self.real_store()
        with open(path, 'rb') as f:
            data = f.read()
        pages = len(data) // 4096
        for page in (1, 2, pages // 2, pages - 2):
            with self.subTest(page=page):
                bad = bytearray(data)
                bad[page * 4096:(page + 1) * 4096] = \
                    random.Random(page).randbytes(4096)
                # Is it really damaged?  Ask SQLite, on a scratch copy.
                scratch = self.write('scratch.db', bytes(bad))
                con = sqlite3.connect(scratch)
                try:
                    ok = con.execute('PRAGMA integrity_check').fetchall() \
                        == [('ok',)]
                except sqlite3.DatabaseError:
                    ok = False
                finally:
                    con.close()
                for n in os.listdir(self.dir):
                    if n.startswith('scratch.db'):
                        os.unlink(os.path.join(self.dir, n))
                p = self.write('damaged%d.db' % page, bytes(bad))
                self.assertFalse(ok, 'page %d: SQLite sees no damage; '
                                 'bad test' % page)
                self.assertRefused(p, r'damaged|malformed|corrupt|not a',
                                   readers_refuse=False)


if __name__ == '__main__':
    harness.main()
