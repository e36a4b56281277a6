"""test_malformed.py - hostile and broken input on raw sockets: NUL and bare
CR in commands, huge lines, floods, garbage, and clients that vanish at
every stage.  The server must answer sanely, store nothing it should not,
keep its memory bounded and go on serving.

Byte-exact cases are the scripts in raw/*.smtp (format in raw/README);
each becomes one test here.  Cases that need measurements are below.
"""

import codecs
import glob
import os
import random
import re
import shlex
import socket
import struct

import harness
from harness import ServerTestCase, simple_message

RAW_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'raw')
STEP_RE = re.compile(r'^(C|S)(?:\*(\d+))?: ?(.*)$')


def unescape(s):
    """Script bytes: \\r \\n \\t \\0 \\\\ \\xHH escapes, ASCII otherwise."""
    s = s.replace('\\0', '\\x00')
    return codecs.escape_decode(s.encode('ascii'))[0]


def parse_script(path):
    """[(lineno, op, count, arg)] and the extra server args."""
    steps, server = [], []
    with open(path, encoding='ascii') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip() or line.startswith('#'):
                continue
            if line.startswith('!'):
                word, _, rest = line[1:].partition(' ')
                if word == 'server':
                    server += shlex.split(rest)
                else:
                    steps.append((n, word, 1, rest.strip()))
                continue
            m = STEP_RE.match(line)
            if m is None:
                raise ValueError('%s:%d: bad line %r' % (path, n, line))
            op, count, arg = m.group(1), int(m.group(2) or 1), m.group(3)
            steps.append((n, op, count, unescape(arg) if op == 'C' else arg))
    return steps, server


class ScriptTest(ServerTestCase):
    start_server = False

    def run_script(self, path):
        steps, args = parse_script(path)
        name = os.path.basename(path)
        srv = self.start(*args)
        self.server = srv
        c = self.connect(banner=False)
        sq = harness.SendQueue(c.sock)
        self.addCleanup(sq.stop)

        def flush():
            self.assertIsNone(sq.flush(), '%s: send failed' % name)

        for lineno, op, count, arg in steps:
            where = '%s:%d' % (name, lineno)
            if op == 'C':
                c.transcript.append('C: %r' % (arg * count)[:300])
                sq.put(arg * count)
            elif op == 'S' and arg == '<close>':
                flush()
                rest = c.read_until_closed()
                self.assertEqual(rest, b'', '%s: expected close' % where)
            elif op == 'S':
                rs = c.replies(count, timeout=max(5, count / 500))
                for i, r in enumerate(rs):
                    self.assertReply(r, arg, '%s (reply %d)' % (where, i + 1))
            elif op == 'disconnect':
                flush()
                c.close()
            elif op == 'half-close':
                flush()
                c.shutdown_write()
            elif op == 'sessions':
                srv.wait_ended_sessions(int(arg))
            elif op == 'stored':
                self.assertStoredCount(int(arg))
            elif op == 'alive':
                self.assertTrue(srv.alive(), '%s: server died' % where)
                c2 = self.connect()
                self.assertReply(c2.banner, '220', where)
                self.assertReply(c2.cmd('NOOP'), '250', where)
                self.assertReply(c2.cmd('QUIT'), '221', where)
                c2.close()
            else:
                self.fail('%s: unknown directive %r' % (where, op))
        flush()


def _add_script_tests():
    paths = sorted(glob.glob(os.path.join(RAW_DIR, '*.smtp')))
    if not paths:
        raise RuntimeError('no scripts in %s' % RAW_DIR)
    for path in paths:
        name = 'test_' + re.sub(r'\W', '_', os.path.basename(path)[:-5])
        setattr(ScriptTest, name,
                lambda self, p=path: self.run_script(p))


_add_script_tests()


class MalformedTest(ServerTestCase):
    def test_ten_megabyte_command_line(self):
        c = self.connect(timeout=30)
        c.ehlo()
        before = self.server.vm_status('VmHWM')
        line = b'NOOP ' + b'x' * (10 * 1024 * 1024) + b'\r\n'
        sender = c.send_background(line)
        r = c.reply(timeout=30)
        self.assertReply(r, '500 5.5.6')
        err = sender.join()
        if err is None and not c.eof:
            # Still usable: the rest of the line was skipped, not run.
            try:
                self.assertReply(c.cmd('NOOP'), '250 2.0.0')
            except harness.Closed:
                pass
        else:
            # The server chose to close; that is fine too.
            c.read_until_closed()
        grown = self.server.vm_status('VmHWM') - before
        limit = 64 * 1024 if harness.sanitized_binary() else 8 * 1024
        self.assertLess(grown, limit, 'peak RSS grew by %d kB for a 10 MB '
                        'line (limit %d kB)' % (grown, limit))
        self.assertTrue(self.server.alive())
        c2 = self.connect()
        c2.ehlo()
        c2.send_message('a@b.test', ['c@d.test'], simple_message())

    def test_ten_megabyte_line_in_pieces(self):
        c = self.connect(timeout=30)
        c.ehlo()
        for _ in range(40):
            c.send(b'y' * (256 * 1024))
        c.send(b'\r\nNOOP\r\n')
        self.assertReply(c.reply(timeout=30), '500 5.5.6')
        self.assertReply(c.reply(), '250 2.0.0')

    def garbage(self, seed, size):
        c = self.connect(timeout=30)
        junk = random.Random(seed).randbytes(size)
        sender = c.send_background(junk)
        sender.join()
        try:
            c.shutdown_write()
        except OSError:
            pass
        data = c.read_until_closed(timeout=30)
        lines = data.split(b'\r\n')
        self.assertEqual(lines[-1], b'', 'reply not ended by CRLF: %r'
                         % lines[-1][:200])
        lines = lines[:-1]
        self.assertTrue(lines, 'no reply at all to %d bytes of garbage'
                        % size)
        for i, l in enumerate(lines):
            self.assertRegex(l, rb'^\d{3}[ -]', 'line %d' % i)
            code = int(l[:3])
            last = i == len(lines) - 1
            if code // 100 != 5 and not (last and code == 421):
                self.fail('reply %r to garbage (seed %d)' % (l, seed))
        self.assertTrue(self.server.alive(), 'server died on garbage')

    def test_binary_garbage(self):
        for seed in (1, 2, 3):
            with self.subTest(seed=seed):
                self.garbage(seed, 256 * 1024)
        c = self.connect()
        c.ehlo()
        c.send_message('a@b.test', ['c@d.test'], simple_message())
        self.assertStoredCount(1)

    def test_garbage_inside_data_is_stored_as_sent(self):
        junk = random.Random(7).randbytes(64 * 1024)
        # Make it a message that ends with CRLF and stuff it.
        data = junk + b'\r\n'
        c = self.connect()
        c.ehlo()
        mid = c.send_message('a@b.test', ['c@d.test'], data)
        self.assertEqual(self.server.raw(mid), data)

    def test_many_clients_vanish(self):
        for i in range(30):
            s = socket.create_connection(('127.0.0.1', self.server.port))
            if i % 3 == 1:
                s.sendall(b'EHLO x\r\nMAIL FROM:<a@b.test>\r\n')
            elif i % 3 == 2:
                # Abortive close: the server sees a reset, not a FIN.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack('ii', 1, 0))
            s.close()
        self.server.wait_ended_sessions(30, timeout=10)
        self.assertStoredCount(0)
        c = self.connect()
        c.ehlo()
        c.send_message('a@b.test', ['c@d.test'], simple_message())


if __name__ == '__main__':
    harness.main()
