"""test_cli.py - the command line: list, show, wait, delete, sessions,
export, check-config, --help, --version and the exit codes.

CONTRACT "The program".  The server fills the store; the CLI reads it
while the server runs.
"""

import email.policy
import os
import re
import subprocess
import time
import unittest
from email.message import EmailMessage

import harness
from harness import ServerTestCase, run_mailsink, text

COMMANDS = ['serve', 'list', 'show', 'wait', 'delete', 'sessions', 'export',
            'check-config']
RFC3339_UTC = r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$'


def message(subject, body='body', frm='Sender <sender@example.test>',
            to='Rcpt <rcpt@example.test>', extra=()):
    lines = ['From: ' + frm, 'To: ' + to, 'Subject: ' + subject,
             'Date: Tue, 2 Jan 2024 10:00:00 +0000',
             'Message-ID: <%s@example.test>' % re.sub(r'\W', '', subject)]
    lines += list(extra) + ['', body]
    return ('\r\n'.join(lines) + '\r\n').encode('utf-8')


class CliCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self._c = None

    def send(self, subject, body='body', mail_from='sender@example.test',
             rcpts=('rcpt@example.test',), **kw):
        """Store one message through SMTP; return (id, octets)."""
        if self._c is None:
            self._c = self.connect()
            self._c.ehlo()
        data = message(subject, body, **kw)
        return self._c.send_message(mail_from, list(rcpts), data), data

    def run_cli(self, *args, **kw):
        return self.server.cli(*args, **kw)

    def assertExit(self, r, code, what=''):
        self.assertEqual(r.returncode, code, '%s: exit %d, stdout %r, '
                         'stderr %r' % (what, r.returncode, r.stdout[:300],
                                        r.stderr[:300]))


class ListTest(CliCase):
    def test_table(self):
        a, _ = self.send('Quarterly report')
        b, _ = self.send('Second subject here')
        r = self.run_cli('list')
        self.assertExit(r, 0, 'list')
        out = text(r.stdout)
        rows = {}
        for line in out.splitlines():
            for subj in ('Quarterly report', 'Second subject here'):
                if subj in line:
                    rows[subj] = line
        self.assertEqual(len(rows), 2, out)
        self.assertRegex(rows['Quarterly report'], r'(^|\s)%d\s' % a)
        self.assertIn('rcpt@example.test', rows['Quarterly report'])
        self.assertIn('sender@example.test', rows['Quarterly report'])
        # Aligned: the subject column starts at the same offset.
        self.assertEqual(rows['Quarterly report'].index('Quarterly'),
                         rows['Second subject here'].index('Second'), out)

    def test_json_fields(self):
        mid, data = self.send('Fields', mail_from='env@example.test',
                              rcpts=('r1@example.test', 'r2@example.test'),
                              extra=['Cc: Carbon <cc@example.test>'])
        (m,) = self.server.cli_json('list')
        types = {'id': int, 'received': str, 'client': str, 'helo': str,
                 'mail_from': str, 'rcpt_to': list, 'size': int,
                 'subject': str, 'from': str, 'to': str, 'cc': str,
                 'date': str, 'message_id': str, 'session_id': int}
        for k, t in types.items():
            self.assertIn(k, m)
            self.assertIsInstance(m[k], t, k)
        self.assertIn('tls', m)
        self.assertIn('user', m)
        self.assertEqual(m['id'], mid)
        self.assertRegex(m['received'], RFC3339_UTC)
        self.assertEqual(m['client'], '127.0.0.1')
        self.assertEqual(m['helo'], 'client.test')
        self.assertIsNone(m['tls'])
        self.assertIsNone(m['user'])
        self.assertEqual(m['mail_from'], 'env@example.test')
        self.assertEqual(m['rcpt_to'], ['r1@example.test', 'r2@example.test'])
        self.assertEqual(m['size'], len(data))
        self.assertEqual(m['subject'], 'Fields')
        self.assertIn('sender@example.test', m['from'])
        self.assertIn('rcpt@example.test', m['to'])
        self.assertIn('cc@example.test', m['cc'])
        self.assertIn('2 Jan 2024', m['date'])
        self.assertIn('Fields@example.test', m['message_id'])

    def test_absent_headers(self):
        c = self.connect()
        c.ehlo()
        mid = c.send_message('a@b.test', ['c@d.test'], b'X-Only: this\r\n\r\n')
        m = self.server.show(mid)
        for k in ('subject', 'from', 'to', 'cc', 'date', 'message_id'):
            self.assertIn(m[k], (None, ''), k)

    def test_limit(self):
        ids = [self.send('limit %d' % i)[0] for i in range(5)]
        got = self.server.cli_json('list', '--limit', '2')
        self.assertEqual(len(got), 2)
        self.assertTrue({m['id'] for m in got} <= set(ids))
        self.assertEqual(len(self.server.cli_json('list', '--limit', '10')),
                         5)

    def test_query(self):
        a, _ = self.send('invoice 42', 'pay now',
                         mail_from='alice@x.test',
                         rcpts=['bob@y.test', 'hidden@y.test'],
                         frm='alice@x.test', to='Bob <bob@y.test>')
        b, _ = self.send('meeting notes', 'agenda attached',
                         mail_from='carol@x.test', rcpts=['dave@y.test'],
                         frm='Carol <carol@x.test>', to='dave@y.test',
                         extra=['Cc: erin@y.test'])
        c, _ = self.send('lunch', 'pizza invoice',
                         mail_from='alice@x.test', rcpts=['frank@z.test'],
                         frm='alice@x.test', to='frank@z.test')
        cases = [
            (['from:alice@x.test'], {a, c}),
            (['from:carol@x.test'], {b}),
            (['to:bob@y.test'], {a}),
            (['to:hidden@y.test'], {a}),
            (['to:dave@y.test'], {b}),
            (['to:erin@y.test'], {b}),
            (['subject:meeting'], {b}),
            (['invoice'], {a, c}),
            (['pizza'], {c}),
            (['agenda'], {b}),
            (['from:alice@x.test', 'lunch'], {c}),
            (['from:alice@x.test', 'invoice'], {a, c}),
            (['from:alice@x.test', 'subject:invoice'], {a}),
        ]
        for query, want in cases:
            with self.subTest(query=query):
                got = self.server.cli_json('list', *query)
                self.assertEqual({m['id'] for m in got}, want)
        for query in (['nomatch'], ['from:nobody@x.test'],
                      ['from:carol@x.test', 'pizza']):
            with self.subTest(query=query):
                self.assertExit(self.run_cli('list', *query), 1, query)
                self.assertExit(self.run_cli('list', '--json', *query), 1,
                                query)

    def test_headers_decoded(self):
        mid, _ = self.send('=?UTF-8?B?R3LDvMOfZSDinJM=?=',
                           frm='=?ISO-8859-1?Q?J=F6rg?= <j@example.test>')
        m = self.server.show(mid)
        self.assertEqual(m['subject'], 'Gr\u00fc\u00dfe \u2713')
        self.assertIn('J\u00f6rg', m['from'])
        (lm,) = self.server.cli_json('list')
        self.assertEqual(lm['subject'], 'Gr\u00fc\u00dfe \u2713')
        want = 'Gr\u00fc\u00dfe \u2713'
        self.assertIn(want, text(self.server.cli_ok('list')))
        self.assertIn(want, text(self.server.cli_ok('show', str(mid))))


class ShowTest(CliCase):
    def multipart(self):
        msg = EmailMessage()
        msg['From'] = 'a@example.test'
        msg['To'] = 'b@example.test'
        msg['Subject'] = 'multipart'
        msg.set_content('plain text part\n')
        msg.add_alternative('<p><b>html</b> part</p>\n', subtype='html')
        self.pdf = bytes(range(256)) * 4
        msg.add_attachment(self.pdf, maintype='application', subtype='pdf',
                           filename='report.pdf')
        return msg.as_bytes(policy=email.policy.SMTP)

    def test_default(self):
        mid, _ = self.send('Show me', 'the body text')
        out = text(self.server.cli_ok('show', str(mid)))
        self.assertIn('Show me', out)
        self.assertIn('the body text', out)

    def test_raw_exact(self):
        mid, data = self.send('Raw', 'x\r\n.dot\r\n\r\ntrailing  ')
        self.assertEqual(self.server.cli_ok('show', '--raw', str(mid)), data)

    def test_headers(self):
        mid, _ = self.send('Only headers', 'secret body line')
        out = text(self.server.cli_ok('show', '--headers', str(mid)))
        self.assertIn('Subject: Only headers', out)
        self.assertIn('message-id:', out.lower())
        self.assertNotIn('secret body line', out)

    def test_json_multipart(self):
        c = self.connect()
        c.ehlo()
        data = self.multipart()
        mid = c.send_message('a@example.test', ['b@example.test'], data)
        m = self.server.show(mid)
        self.assertEqual(m['id'], mid)
        hdrs = m['headers']
        self.assertIsInstance(hdrs, list)
        for h in hdrs:
            self.assertEqual(len(h), 2, h)
        names = [h[0] for h in hdrs]
        self.assertEqual(names[:3], ['From', 'To', 'Subject'])
        self.assertIn(['Subject', 'multipart'], hdrs)
        self.assertIn('plain text part', m['text'])
        self.assertIn('<b>html</b>', m['html'])
        atts = m['attachments']
        self.assertEqual(len(atts), 1, atts)
        a = atts[0]
        self.assertEqual(a['filename'], 'report.pdf')
        self.assertEqual(a['content_type'], 'application/pdf')
        self.assertEqual(a['size'], len(self.pdf))
        self.assertTrue(a['part_id'])

    def test_json_plain_has_no_html(self):
        mid, _ = self.send('Plain', 'just text')
        m = self.server.show(mid)
        self.assertIn('just text', m['text'])
        self.assertIn(m['html'], (None, ''))
        self.assertEqual(m['attachments'], [])

    def test_transcript(self):
        mid, _ = self.send('Transcript')
        self._c.quit()
        self.server.wait_sessions_ended(1)
        out = text(self.server.cli_ok('show', '--transcript', str(mid)))
        self.assertRegex(out, r'(?m)^C: EHLO client\.test')
        self.assertRegex(out, r'(?m)^C: MAIL FROM:<sender@example\.test>')
        self.assertRegex(out, r'(?m)^S: 250')
        self.assertRegex(out, r'(?m)^S: 354')
        self.assertRegex(out, r'(?m)^C: QUIT')
        self.assertRegex(out, r'(?m)^S: 221')

    def test_latest(self):
        self.send('first')
        b, _ = self.send('second')
        self.assertEqual(self.server.show('latest')['id'], b)
        self.assertIn('second', text(self.server.cli_ok('show', 'latest')))

    def test_missing(self):
        self.assertExit(self.run_cli('show', '999'), 1, 'show 999')
        self.assertExit(self.run_cli('show', 'latest'), 1, 'show latest')
        self.assertExit(self.run_cli('show', '--raw', '999'), 1, 'raw')
        r = self.run_cli('show', '--json', '999')
        self.assertExit(r, 1, 'json')
        self.assertTrue(r.stderr.strip(), 'no reason on stderr')

    def test_usage(self):
        self.send('something')
        self.assertExit(self.run_cli('show', 'abc'), 2, 'show abc')
        self.assertExit(self.run_cli('show', '-5'), 2, 'show -5')
        self.assertExit(self.run_cli('show'), 2, 'show without id')
        self.assertExit(self.run_cli('show', '--frob', '1'), 2, 'bad option')


class WaitTest(CliCase):
    def test_returns_at_once_when_present(self):
        mid, _ = self.send('present')
        t = time.monotonic()
        r = self.run_cli('wait', '--timeout', '10')
        self.assertExit(r, 0, 'wait')
        self.assertLess(time.monotonic() - t, 5)
        self.assertEqual(r.stdout.split(), [b'%d' % mid])

    def test_count_waits_for_all(self):
        w = subprocess.Popen([harness.mailsink_bin(), 'wait', '--db',
                              self.server.db, '--timeout', '20', '--count',
                              '3', 'subject:counted'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            ids = [self.send('counted %d' % i)[0] for i in range(3)]
            out, err = w.communicate(timeout=30)
        finally:
            if w.poll() is None:
                w.kill()
                w.wait()
        self.assertEqual(w.returncode, 0, text(err))
        self.assertEqual(sorted(int(x) for x in out.split()), sorted(ids))

    def test_count_not_reached_times_out(self):
        self.send('only one')
        t = time.monotonic()
        r = self.run_cli('wait', '--timeout', '1', '--count', '2')
        self.assertExit(r, 1, 'wait --count 2')
        self.assertLess(time.monotonic() - t, 8)

    def test_timeout(self):
        t = time.monotonic()
        r = self.run_cli('wait', '--timeout', '1', 'subject:never')
        took = time.monotonic() - t
        self.assertExit(r, 1, 'wait')
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 8)
        err = text(r.stderr).strip()
        self.assertTrue(err, 'no reason on stderr')
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertEqual(r.stdout.strip(), b'')

    def test_query(self):
        self.send('first one')
        b, _ = self.send('second one')
        r = self.run_cli('wait', '--timeout', '5', 'subject:second')
        self.assertExit(r, 0, 'wait')
        self.assertEqual(r.stdout.split(), [b'%d' % b])


class DeleteTest(CliCase):
    def test_delete_one(self):
        a, _ = self.send('keep')
        b, _ = self.send('drop')
        self.assertExit(self.run_cli('delete', str(b)), 0, 'delete')
        self.assertExit(self.run_cli('show', str(b)), 1, 'show deleted')
        self.assertEqual([m['id'] for m in self.server.messages()], [a])
        self.assertExit(self.run_cli('delete', str(b)), 1, 'delete again')

    def test_delete_several_and_all(self):
        ids = [self.send('m%d' % i)[0] for i in range(4)]
        self.assertExit(self.run_cli('delete', str(ids[0]), str(ids[1])), 0,
                        'delete two')
        self.assertEqual(sorted(m['id'] for m in self.server.messages()),
                         ids[2:])
        self.assertExit(self.run_cli('delete', '--all'), 0, 'delete --all')
        self.assertEqual(self.server.messages(), [])
        # New messages still get stored (and new ids).
        c, _ = self.send('after')
        self.assertEqual([m['id'] for m in self.server.messages()], [c])

    def test_usage(self):
        self.assertExit(self.run_cli('delete'), 2, 'delete without ids')


class SessionsTest(CliCase):
    def test_sessions(self):
        c1 = self.connect()
        c1.ehlo('first.test')
        a = c1.send_message('a@b.test', ['c@d.test'], message('s1'))
        c1.quit()
        c2 = self.connect()
        c2.ehlo('second.test')
        b = c2.send_message('a@b.test', ['c@d.test'], message('s2'))
        c3 = c2.send_message('a@b.test', ['c@d.test'], message('s3'))
        c2.quit()
        ss = self.server.wait_sessions_ended(2)
        self.assertEqual(len(ss), 2)
        self.assertEqual([s['helo'] for s in ss], ['second.test',
                                                   'first.test'])
        self.assertEqual(ss[0]['client'], '127.0.0.1')
        self.assertIsNone(ss[0]['tls'])
        self.assertIsNone(ss[0]['user'])
        delivered = harness.pick(ss[0], 'messages', 'message_ids')
        self.assertEqual(sorted(delivered), sorted([b, c3]))
        self.assertEqual(harness.pick(ss[1], 'messages', 'message_ids'), [a])
        self.assertEqual(self.server.show(a)['session_id'], ss[1]['id'])
        out = text(self.server.cli_ok('sessions'))
        self.assertIn('first.test', out)
        self.assertIn('second.test', out)
        self.assertIn('127.0.0.1', out)
        self.assertEqual(len(self.server.sessions('--limit', '1')), 1)


class RejectedSessionsTest(CliCase):
    server_args = ('--max-size', '1K')

    def test_rejected(self):
        c1 = self.connect()
        c1.ehlo('good.test')
        c1.send_message('a@b.test', ['c@d.test'], message('fine'))
        c1.quit()
        c2 = self.connect()
        c2.ehlo('big.test')
        r = c2.transaction('big@b.test', ['c@d.test', 'e@f.test'],
                           message('big', 'x' * 4000))
        self.assertReply(r, '552 5.3.4')
        c2.quit()
        self.server.wait_sessions_ended(2)
        rej = self.server.sessions('--rejected')
        self.assertEqual(len(rej), 1, rej)
        self.assertEqual(rej[0]['helo'], 'big.test')
        (t,) = harness.pick(rej[0], 'rejections', 'rejects')
        self.assertEqual(t['stage'], 'data')
        self.assertTrue(t['reply'].startswith('552 5.3.4'), t)
        self.assertEqual(t['mail_from'], 'big@b.test')
        self.assertEqual(t['rcpt_to'], ['c@d.test', 'e@f.test'])
        out = text(self.server.cli_ok('sessions', '--rejected'))
        self.assertIn('big.test', out)
        self.assertIn('552', out)
        self.assertNotIn('good.test', out)


class ExportTest(CliCase):
    def test_mbox(self):
        a, _ = self.send('mbox one', 'From here on\r\n>From quoted\r\nend')
        b, _ = self.send('mbox two', 'plain')
        path = os.path.join(self.server.tmpdir, 'out.mbox')
        self.server.cli_ok('export', '--mbox', path)
        with open(path, 'rb') as f:
            mbox = f.read().replace(b'\r\n', b'\n')
        self.assertTrue(mbox.startswith(b'From '), mbox[:100])
        seps = re.findall(rb'(?m)^From .*$', mbox)
        self.assertEqual(len(seps), 2, seps)
        self.assertIn(b'\n>From here on\n', mbox)
        self.assertIn(b'\n>>From quoted\n', mbox)
        self.assertIn(b'Subject: mbox one\n', mbox)
        self.assertIn(b'Subject: mbox two\n', mbox)

    def test_mbox_query(self):
        self.send('wanted one')
        self.send('other')
        path = os.path.join(self.server.tmpdir, 'q.mbox')
        self.server.cli_ok('export', '--mbox', path, 'subject:wanted')
        with open(path, 'rb') as f:
            mbox = f.read()
        self.assertEqual(len(re.findall(rb'(?m)^From ', mbox)), 1)
        self.assertIn(b'wanted one', mbox)
        self.assertNotIn(b'Subject: other', mbox)

    def test_dir(self):
        ids = {}
        for s in ('dir one', 'dir two', 'dir three'):
            mid, data = self.send(s, 'line\r\n.dot\r\nFrom x')
            ids[mid] = data
        out = os.path.join(self.server.tmpdir, 'eml')
        self.server.cli_ok('export', '--dir', out)
        self.assertEqual(sorted(os.listdir(out)),
                         sorted('%d.eml' % i for i in ids))
        for mid, data in ids.items():
            with open(os.path.join(out, '%d.eml' % mid), 'rb') as f:
                self.assertEqual(f.read(), data)

    def test_usage(self):
        self.assertExit(self.run_cli('export'), 2, 'export without target')


class CheckConfigTest(unittest.TestCase):
    def setUp(self):
        import tempfile
        self.dir = tempfile.mkdtemp(prefix='mailsink-conf-')

    def tearDown(self):
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, body):
        path = os.path.join(self.dir, 'test.conf')
        with open(path, 'w') as f:
            f.write(body)
        return path

    def check(self, *args):
        return run_mailsink('check-config', *args, cwd=self.dir)

    def test_good(self):
        path = self.write('# a comment\n'
                          'smtp 127.0.0.1:2525\n'
                          'smtp 127.0.0.1:2526\n'
                          'http off\n'
                          'hostname "test.example"\n'
                          'max-size 10M\n'
                          'max-recipients 50\n'
                          'timeout 60\n'
                          '\n'
                          'log-level debug\n')
        r = self.check('--config', path)
        self.assertEqual(r.returncode, 0, text(r.stderr))

    def test_bad_directive(self):
        path = self.write('hostname test.example\n# comment\nfrobnicate yes\n')
        r = self.check('--config', path)
        self.assertEqual(r.returncode, 2)
        err = text(r.stderr)
        self.assertIn('%s:3' % path, err)
        self.assertIn('frobnicate', err)

    def test_bad_value(self):
        path = self.write('\n\nmax-size lots\n')
        r = self.check('--config', path)
        self.assertEqual(r.returncode, 2)
        self.assertIn('%s:3' % path, text(r.stderr))

    def test_missing_file(self):
        r = self.check('--config', os.path.join(self.dir, 'nope.conf'))
        self.assertEqual(r.returncode, 2)
        self.assertIn('nope.conf', text(r.stderr))

    def test_bad_option(self):
        r = self.check('--max-size', 'lots')
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.strip())

    def test_shipped_config_is_valid(self):
        path = os.path.join(harness.srcdir(), 'conf', 'mailsink.conf')
        r = self.check('--config', path)
        self.assertEqual(r.returncode, 0, text(r.stderr))


class ProgramTest(unittest.TestCase):
    """No store involved; runs in a temp dir so that a command which
    wrongly goes ahead cannot leave a mailsink.db behind."""

    def setUp(self):
        import tempfile
        self.dir = tempfile.mkdtemp(prefix='mailsink-cli-')

    def tearDown(self):
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)

    def ms(self, *args):
        return run_mailsink(*args, cwd=self.dir)

    def test_help(self):
        r = self.ms('--help')
        self.assertEqual(r.returncode, 0)
        out = text(r.stdout)
        for cmd in COMMANDS:
            self.assertIn(cmd, out)
        for cmd in COMMANDS:
            with self.subTest(cmd=cmd):
                r = self.ms(cmd, '--help')
                self.assertEqual(r.returncode, 0, text(r.stderr))
                self.assertIn(cmd, text(r.stdout))
                self.assertIn('usage', text(r.stdout).lower())

    def test_version(self):
        r = self.ms('--version')
        self.assertEqual(r.returncode, 0)
        self.assertRegex(text(r.stdout), r'^mailsink \d+\.\d+')

    def test_unknown_command(self):
        r = self.ms('frobnicate')
        self.assertEqual(r.returncode, 2)
        self.assertIn('frobnicate', text(r.stderr))

    def test_unknown_options(self):
        for cmd in ['list', 'show', 'wait', 'delete', 'sessions', 'export',
                    'check-config']:
            with self.subTest(cmd=cmd):
                r = self.ms(cmd, '--frobnicate')
                self.assertEqual(r.returncode, 2, text(r.stderr))
                self.assertTrue(r.stderr.strip())

    def test_bad_numbers(self):
        for args in (['list', '--limit', 'x'], ['wait', '--count', 'x'],
                     ['wait', '--timeout', 'soon']):
            with self.subTest(args=args):
                r = self.ms(*args)
                self.assertEqual(r.returncode, 2, text(r.stderr))


if __name__ == '__main__':
    harness.main()
