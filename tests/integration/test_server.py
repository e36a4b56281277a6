"""test_server.py - the server process: listeners and the "listening:"
lines, connection limit, timeouts, signals, start-up failures, options and
the config file.

CONTRACT "Serving: options and defaults".
"""

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest

import harness
from harness import (Client, ServerTestCase, poll, run_mailsink,
                     simple_message, text)


class ListenTest(ServerTestCase):
    def test_listening_line(self):
        lines = [l for l in self.server.stdout_lines if 'smtp' in l]
        self.assertEqual(len(lines), 1, self.server.stdout_lines)
        m = re.match(r'^listening: smtp 127\.0\.0\.1:(\d+)$', lines[0])
        self.assertIsNotNone(m, lines[0])
        port = int(m.group(1))
        self.assertNotEqual(port, 0, 'port 0 printed, not the real port')
        c = self.connect()
        self.assertReply(c.banner, '220')

    def test_two_listeners(self):
        s = self.start(smtp=['127.0.0.1:0', '127.0.0.1:0'])
        ports = s.smtp_ports()
        self.assertEqual(len(ports), 2)
        self.assertNotEqual(ports[0], ports[1])
        ids = []
        for p in ports:
            c = Client(p)
            self.clients.append(c)
            c.ehlo()
            ids.append(c.send_message('a@b.test', ['c@d.test'],
                                      simple_message('port %d' % p)))
        self.assertEqual(sorted(m['id'] for m in s.messages()), sorted(ids))

    def test_ipv6_loopback_port_zero(self):
        try:
            probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            probe.bind(('::1', 0))
            probe.close()
        except OSError:
            self.skipTest('no IPv6 loopback here')
        s = self.start(smtp=['[::1]:0'])
        line = [l for l in s.stdout_lines if l.startswith('listening: smtp')]
        self.assertRegex(line[0], r'^listening: smtp \[::1\]:[1-9]\d*$')
        port = int(line[0].rsplit(':', 1)[1])
        with socket.create_connection(('::1', port), timeout=5) as c:
            self.assertTrue(c.recv(512).startswith(b'220 '))

    def test_memory_store(self):
        s = self.start(db=':memory:')
        c = Client(s.port)
        self.clients.append(c)
        c.ehlo()
        self.assertGreater(c.send_message('a@b.test', ['c@d.test'],
                                          simple_message()), 0)


class MaxConnectionsTest(ServerTestCase):
    server_args = ('--max-connections', '2')

    def test_third_connection_refused(self):
        c1 = self.connect()
        c2 = self.connect()
        self.assertReply(c1.banner, '220')
        self.assertReply(c2.banner, '220')
        c3 = self.connect(banner=False)
        self.assertReply(c3.reply(), '421 4.3.2')
        c3.expect_closed()
        # The two that are in keep working.
        self.assertReply(c2.cmd('NOOP'), '250')
        c1.quit()

        def admitted():
            c = Client(self.server.port, banner=False)
            self.clients.append(c)
            r = c.reply()
            if r.code == 220:
                return c
            c.close()
            return None
        c4 = harness.poll(admitted, timeout=5, step=0.05,
                          what='a slot after one client left')
        c4.ehlo()
        c4.send_message('a@b.test', ['c@d.test'], simple_message())


class TimeoutTest(ServerTestCase):
    server_args = ('--timeout', '1')

    def test_idle_client_cut(self):
        c = self.connect()
        t = time.monotonic()
        r = c.reply(timeout=6)
        took = time.monotonic() - t
        self.assertReply(r, '421 4.4.2')
        c.expect_closed()
        self.assertGreater(took, 0.8)
        self.assertLess(took, 5)

    def test_trickling_client_cut(self):
        # One byte every 0.3 s: each byte is "activity", yet the line is
        # not complete within 1 s, so the client is cut.
        c = self.connect()
        c.ehlo()
        t = time.monotonic()
        line = b'NOOP ' + b'x' * 40 + b'\r\n'
        got = None
        for b in line:
            c.send(bytes([b]))
            try:
                got = c.reply(timeout=0.3)     # also the pacing
                break
            except harness.Closed:
                self.fail('closed without 421 after %.1fs'
                          % (time.monotonic() - t))
            except AssertionError:
                continue
        took = time.monotonic() - t
        self.assertIsNotNone(got, 'never cut while trickling a line')
        self.assertReply(got, '421 4.4.2')
        self.assertLess(took, 4)
        c.read_until_closed()

    def test_busy_client_not_cut(self):
        # Complete lines within the timeout keep the session alive well
        # past it.
        c = self.connect()
        c.ehlo()
        t = time.monotonic()
        while time.monotonic() - t < 2.5:
            self.assertReply(c.cmd('NOOP'), '250 2.0.0')
            time.sleep(0.4)     # client pacing, not a wait for the server
        self.assertReply(c.cmd('QUIT'), '221')

    def test_idle_in_data_cut_and_not_stored(self):
        c = self.connect()
        c.ehlo()
        c.cmd('MAIL FROM:<a@b.test>')
        c.cmd('RCPT TO:<c@d.test>')
        self.assertReply(c.cmd('DATA'), '354')
        c.send(b'Subject: slow\r\n\r\npart')
        self.assertReply(c.reply(timeout=6), '421 4.4.2')
        c.read_until_closed()
        self.server.wait_ended_sessions(1)
        self.assertStoredCount(0)


class SignalTest(ServerTestCase):
    def message_then_signal(self, sig):
        c = self.connect()
        c.ehlo()
        mid = c.send_message('a@b.test', ['c@d.test'],
                             simple_message('before signal'))
        self.server.send_signal(sig)
        rc = self.server.wait_exit(10)
        self.assertEqual(rc, 0, 'exit status after %s' % sig.name)
        # The store was closed cleanly and has the message.
        m = self.server.show(mid)
        self.assertEqual(m['subject'], 'before signal')

    def test_sigterm(self):
        self.message_then_signal(signal.SIGTERM)

    def test_sigint(self):
        self.message_then_signal(signal.SIGINT)

    def test_sigterm_with_idle_client(self):
        c = self.connect()
        c.ehlo()
        self.server.send_signal(signal.SIGTERM)
        self.assertEqual(self.server.wait_exit(10), 0)
        rest = c.read_until_closed(timeout=5)
        for l in rest.splitlines():
            self.assertRegex(l, rb'^421[ -]', 'unexpected %r' % rest)

    def test_sigterm_lets_open_transaction_finish(self):
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '250 2.1.0')
        self.assertCmd(c, 'RCPT TO:<c@d.test>', '250 2.1.5')
        self.server.send_signal(signal.SIGTERM)
        self.assertCmd(c, 'DATA', '354')
        c.send(simple_message('in flight') + b'.\r\n')
        mid = harness.queued_id(c.reply())
        self.assertEqual(self.server.wait_exit(10), 0)
        self.assertEqual(self.server.show(mid)['subject'], 'in flight')

    def test_sighup_does_not_kill(self):
        self.server.send_signal(signal.SIGHUP)
        c = self.connect()
        c.ehlo()
        c.send_message('a@b.test', ['c@d.test'], simple_message())
        self.assertTrue(self.server.alive())


class StartFailureTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='mailsink-start-')
        self.db = os.path.join(self.dir, 'test.db')

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def serve(self, *args):
        return run_mailsink('serve', '--http', 'off', '--db', self.db,
                            *args, timeout=15, cwd=self.dir)

    def test_port_in_use(self):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            s.listen(1)
            port = s.getsockname()[1]
            r = self.serve('--smtp', '127.0.0.1:%d' % port)
        self.assertEqual(r.returncode, 1, text(r.stderr))
        err = text(r.stderr)
        self.assertIn(str(port), err)
        self.assertRegex(err.lower(), r'in use|address|bind')

    def test_bad_options(self):
        for args in (['--frobnicate'], ['--max-size', 'lots'],
                     ['--max-size', '99999999999G'], ['--smtp', 'nonsense'],
                     ['--smtp', '127.0.0.1:99999'], ['--timeout', 'x'],
                     ['--max-connections', '-1'], ['--log-level', 'loud'],
                     ['--starttls', 'maybe'], ['--smtp']):
            with self.subTest(args=args):
                r = self.serve('--smtp', '127.0.0.1:0', *args)
                self.assertEqual(r.returncode, 2, text(r.stderr))
                self.assertTrue(r.stderr.strip(), 'no message')
                self.assertEqual(len(text(r.stderr).strip().splitlines()),
                                 1, text(r.stderr))

    def test_bad_config_file(self):
        path = os.path.join(self.dir, 'bad.conf')
        with open(path, 'w') as f:
            f.write('hostname ok.example\nfrobnicate yes\n')
        r = self.serve('--smtp', '127.0.0.1:0', '--config', path)
        self.assertEqual(r.returncode, 2)
        self.assertIn('%s:2' % path, text(r.stderr))

    def test_unusable_store(self):
        r = run_mailsink('serve', '--http', 'off', '--smtp', '127.0.0.1:0',
                         '--db', os.path.join(self.dir, 'no', 'such', 'x.db'),
                         timeout=15, cwd=self.dir)
        self.assertEqual(r.returncode, 1, text(r.stderr))
        self.assertIn('x.db', text(r.stderr))


class OptionsTest(ServerTestCase):
    start_server = False

    def try_options(self, *args, **kw):
        s = self.start(*args, **kw)
        c = Client(s.port)
        self.clients.append(c)
        self.assertReply(c.banner, '220')
        c.ehlo()
        return s, c

    def test_later_issue_options_accepted(self):
        # STARTTLS, AUTH, rules and HTTP come with later issues; until then
        # the options must at least be accepted and the server must start.
        cert = os.path.join(tempfile.mkdtemp(prefix='mailsink-tls-'), 'c')
        self.addCleanup(shutil.rmtree, os.path.dirname(cert), True)
        r = subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec',
                            '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                            '-subj', '/CN=test.example', '-days', '2',
                            '-keyout', cert + '.key', '-out', cert + '.pem'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        sets = [(('--smtps', '127.0.0.1:0'), {}),
                ((), {'http': '127.0.0.1:0'}),
                (('--auth', 'any'), {}),
                (('--starttls', 'off'), {}),
                (('--rule', 'rcpt *@reject.test reply 550 5.1.1 "No"'), {}),
                (('--rule', 'rcpt *@reject.test reply 550 5.1.1 "No"',
                  '--max-messages', '10'), {})]
        if r.returncode == 0:
            sets.append((('--tls-cert', cert + '.pem', '--tls-key',
                          cert + '.key'), {}))
        for args, kw in sets:
            with self.subTest(args=args, **kw):
                s, c = self.try_options(*args, **kw)
                mid = c.send_message('a@b.test', ['c@d.test'],
                                     simple_message())
                self.assertEqual(s.show(mid)['mail_from'], 'a@b.test')

    def test_max_messages(self):
        s, c = self.try_options('--max-messages', '2')
        ids = [c.send_message('a@b.test', ['c@d.test'],
                              simple_message('m%d' % i)) for i in range(4)]
        harness.poll(lambda: len(s.messages()) == 2, timeout=5,
                     what='pruning to 2 messages')
        self.assertEqual(sorted(m['id'] for m in s.messages()), ids[2:])

    def test_transcript_log(self):
        s, c = self.try_options('-v')
        c.send_message('logged@b.test', ['c@d.test'], simple_message())
        harness.poll(lambda: 'MAIL FROM:<logged@b.test>' in s.log_text(),
                     timeout=5, what='the command in the log')
        harness.poll(lambda: '2.1.0' in s.log_text(), timeout=5,
                     what='the reply in the log')

    def test_config_file_and_override(self):
        path = os.path.join(tempfile.mkdtemp(prefix='mailsink-conf-'),
                            'm.conf')
        self.addCleanup(shutil.rmtree, os.path.dirname(path), True)
        with open(path, 'w') as f:
            f.write('# test config\nhostname conf.example\nmax-size 2K\n')
        s, c = self.try_options('--config', path)
        self.assertEqual(c.banner.text.split()[0], 'conf.example')
        self.assertIn('SIZE 2048', c.cmd('EHLO x.test').lines)
        s2, c2 = self.try_options('--config', path, hostname='cli.example')
        self.assertEqual(c2.banner.text.split()[0], 'cli.example')

    def test_store_records(self):
        s, c = self.try_options(hostname='rec.example')
        mid = c.send_message('a@b.test', ['c@d.test'], simple_message())
        c.quit()
        (sess,) = s.wait_sessions_ended(1)
        m = s.show(mid)
        self.assertIsNone(m['tls'])
        self.assertIsNone(sess['tls'])
        self.assertEqual(m['session_id'], sess['id'])
        self.assertEqual(sess['outcome'], 'quit')
        out = text(s.cli_ok('show', '--transcript', str(mid)))
        for want in ('C: EHLO client.test', 'C: DATA', 'S: 354', 'C: QUIT',
                     'S: 221'):
            self.assertIn(want, out)


    def test_indexes_after_the_250(self):
        # Messages go into the search index after their 250: the server
        # does it on its own, with no search asking for it ...
        s, c = self.try_options()
        ids = [c.send_message('a@b.test', ['c@d.test'], simple_message(
            subject='index %d' % i, body='pangolin%d' % i))
            for i in range(5)]

        def indexed():
            con = sqlite3.connect('file:%s?mode=ro' % s.db, uri=True,
                                  timeout=5)
            try:
                return con.execute('SELECT upto FROM indexed').fetchone()[0]
            finally:
                con.close()
        poll(lambda: indexed() == max(ids), timeout=10,
             what='the server to index messages %s' % ids)
        self.assertEqual([m['id'] for m in s.messages('pangolin3')],
                         [ids[3]])
        # ... and a search right after a 250 finds the message whether
        # or not the server got to it yet: the reader indexes the rest.
        for i in range(5, 10):
            mid = c.send_message('a@b.test', ['c@d.test'], simple_message(
                subject='index %d' % i, body='pangolin%d' % i))
            self.assertEqual([m['id'] for m in
                              s.messages('pangolin%d' % i)], [mid])
        c.quit()

if __name__ == '__main__':
    harness.main()
