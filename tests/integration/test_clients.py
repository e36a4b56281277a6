"""test_clients.py - real SMTP clients against the server: Python smtplib,
swaks and curl, and many clients at once.

swaks and curl are required (the CI image installs them); without them the
module is skipped with exit 77.
"""

import os
import smtplib
import subprocess
import threading
from email.message import EmailMessage

import harness
from harness import ServerTestCase

harness.require_tool('swaks', 'needed for the swaks client tests')
harness.require_tool('curl', 'needed for the curl client tests')


def smtp(port, **kw):
    kw.setdefault('local_hostname', 'smtplib.test')
    kw.setdefault('timeout', 10)
    return smtplib.SMTP('127.0.0.1', port, **kw)


class SmtplibTest(ServerTestCase):
    def test_sendmail(self):
        msg = ('From: a@b.test\r\nTo: c@d.test\r\nSubject: smtplib plain\r\n'
               '\r\nline one\r\n.line with a dot\r\n..two dots\r\n')
        with smtp(self.server.port) as s:
            refused = s.sendmail('a@b.test', ['c@d.test', 'e@f.test'], msg)
            self.assertEqual(refused, {})
        (mid,) = self.server.wait_for(1, 'subject:smtplib')
        m = self.server.show(mid)
        self.assertEqual(m['mail_from'], 'a@b.test')
        self.assertEqual(m['rcpt_to'], ['c@d.test', 'e@f.test'])
        self.assertEqual(m['subject'], 'smtplib plain')
        self.assertEqual(m['helo'], 'smtplib.test')
        self.assertEqual(self.server.raw(mid), msg.encode())

    def test_data_reply_carries_the_id(self):
        with smtp(self.server.port) as s:
            s.ehlo()
            self.assertEqual(s.mail('a@b.test')[0], 250)
            self.assertEqual(s.rcpt('c@d.test')[0], 250)
            code, text = s.data(b'Subject: id\r\n\r\nbody\r\n')
        self.assertEqual(code, 250)
        mid = int(text.decode().rsplit(' ', 1)[1])
        self.assertEqual(self.server.wait_for(1), [mid])
        self.assertEqual(self.server.show('latest')['id'], mid)

    def test_send_message_utf8_subject(self):
        msg = EmailMessage()
        msg['From'] = 'J\u00f6rg M\u00fcller <joerg@example.test>'
        msg['To'] = 'Ren\u00e9e <renee@example.test>'
        msg['Subject'] = 'Gr\u00fc\u00dfe aus K\u00f6ln \u2713 \u65e5\u672c'
        msg.set_content('Hallo \u00e4\u00f6\u00fc\n')
        with smtp(self.server.port) as s:
            s.send_message(msg)
        (mid,) = self.server.wait_for(1)
        raw = self.server.raw(mid)
        # On the wire the subject is RFC 2047 encoded-words ...
        self.assertIn(b'=?utf-8?', raw.lower())
        self.assertNotIn(msg['Subject'].encode('utf-8'), raw)
        # ... and the store shows it decoded.
        m = self.server.show(mid)
        self.assertEqual(m['subject'], msg['Subject'])
        self.assertIn('J\u00f6rg M\u00fcller', m['from'])
        self.assertIn('Ren\u00e9e', m['to'])
        self.assertEqual(m['mail_from'], 'joerg@example.test')
        self.assertEqual(m['rcpt_to'], ['renee@example.test'])
        self.assertIn('Hallo \u00e4\u00f6\u00fc', m['text'])

    def test_sendmail_smtputf8(self):
        sender = 'j\u00f6rg@b\u00fccher.test'
        rcpt = '\u7528\u6237@\u4f8b\u5b50.test'
        body = ('From: %s\r\nTo: %s\r\nSubject: \u00fcber\r\n\r\n'
                '\u4f60\u597d\r\n' % (sender, rcpt)).encode('utf-8')
        with smtp(self.server.port) as s:
            s.ehlo()
            self.assertTrue(s.has_extn('smtputf8'))
            s.sendmail(sender, [rcpt], body, mail_options=['SMTPUTF8'])
        (mid,) = self.server.wait_for(1)
        m = self.server.show(mid)
        self.assertEqual(m['mail_from'], sender)
        self.assertEqual(m['rcpt_to'], [rcpt])
        self.assertEqual(m['subject'], '\u00fcber')
        self.assertEqual(self.server.raw(mid), body)

    def test_send_message_international(self):
        # smtplib adds SMTPUTF8 and BODY=8BITMIME by itself here.
        msg = EmailMessage()
        msg['From'] = '\u00e9mile@\u00e9xample.test'
        msg['To'] = '\u0434\u0440\u0443\u0433@\u043f\u0440\u0438\u043c\u0435' \
                    '\u0440.test'
        msg['Subject'] = 'international'
        msg.set_content('\u00e7a va\n')
        with smtp(self.server.port) as s:
            s.send_message(msg)
        (mid,) = self.server.wait_for(1)
        m = self.server.show(mid)
        self.assertEqual(m['mail_from'], '\u00e9mile@\u00e9xample.test')
        self.assertEqual(m['rcpt_to'], [msg['To']])

    def test_concurrent_clients(self):
        threads, per = 20, 10
        results, errors = {}, []
        lock = threading.Lock()

        def client(t):
            try:
                with smtp(self.server.port, timeout=30) as s:
                    s.ehlo()
                    for i in range(per):
                        subj = 'c%02d-%02d' % (t, i)
                        s.mail('t%d@b.test' % t)
                        s.rcpt('r%d@d.test' % i)
                        code, text = s.data(('Subject: %s\r\n\r\nx\r\n'
                                             % subj).encode())
                        if code != 250:
                            raise AssertionError('%s: %d %r'
                                                 % (subj, code, text))
                        with lock:
                            results[subj] = int(text.decode()
                                                .rsplit(' ', 1)[1])
            except Exception as e:
                with lock:
                    errors.append('thread %d: %r' % (t, e))

        ts = [threading.Thread(target=client, args=(t,))
              for t in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), threads * per)
        self.assertEqual(len(set(results.values())), threads * per,
                         'ids are not distinct')
        msgs = self.server.cli_json('list', '--limit', '1000')
        self.assertEqual(len(msgs), threads * per)
        self.assertEqual({m['subject']: m['id'] for m in msgs}, results)


class SwaksTest(ServerTestCase):
    def swaks(self, *args):
        r = subprocess.run(['swaks', '--server', '127.0.0.1:%d'
                            % self.server.port, '--helo', 'swaks.test',
                            '--timeout', '20'] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        self.note('swaks %s\n%s' % (' '.join(args), harness.text(r.stdout)))
        self.assertEqual(r.returncode, 0, 'swaks failed')
        return harness.text(r.stdout)

    def check(self):
        (mid,) = self.server.wait_for(1, 'subject:swaks')
        m = self.server.show(mid)
        self.assertEqual(m['subject'], 'swaks test')
        self.assertEqual(m['mail_from'], 'c@d.test')
        self.assertEqual(m['rcpt_to'], ['a@b.test'])
        self.assertEqual(m['helo'], 'swaks.test')
        self.assertIn(b'\r\nhi\r\n', self.server.raw(mid))
        return m

    def test_swaks(self):
        out = self.swaks('--to', 'a@b.test', '--from', 'c@d.test',
                         '--header', 'Subject: swaks test', '--body', 'hi')
        self.assertIn('queued as', out)
        self.check()

    def test_swaks_pipeline(self):
        self.swaks('--pipeline', '--to', 'a@b.test', '--from', 'c@d.test',
                   '--header', 'Subject: swaks test', '--body', 'hi')
        self.check()

    def test_swaks_several_recipients(self):
        self.swaks('--to', 'x@y.test,z@y.test', '--from', 'c@d.test',
                   '--header', 'Subject: swaks many', '--body', 'hi')
        (mid,) = self.server.wait_for(1)
        self.assertEqual(self.server.show(mid)['rcpt_to'],
                         ['x@y.test', 'z@y.test'])


class CurlTest(ServerTestCase):
    def curl(self, path, *args):
        r = subprocess.run(['curl', '-sS', '--max-time', '20',
                            'smtp://127.0.0.1:%d/curl.test'
                            % self.server.port, '--upload-file', path]
                           + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.note('curl: exit %d\n%s' % (r.returncode, harness.text(r.stderr)))
        self.assertEqual(r.returncode, 0, 'curl failed: %s'
                         % harness.text(r.stderr))

    def test_curl_exact_bytes(self):
        data = (b'From: a@b\r\nTo: c@d\r\nSubject: curl upload\r\n\r\n'
                b'.dot first\r\n..two dots\r\nplain\r\n\r\n.\r\nend\r\n')
        path = os.path.join(self.server.tmpdir, 'mail.eml')
        with open(path, 'wb') as f:
            f.write(data)
        self.curl(path, '--mail-from', 'a@b', '--mail-rcpt', 'c@d')
        (mid,) = self.server.wait_for(1)
        m = self.server.show(mid)
        self.assertEqual(m['mail_from'], 'a@b')
        self.assertEqual(m['rcpt_to'], ['c@d'])
        self.assertEqual(m['helo'], 'curl.test')
        self.assertEqual(m['subject'], 'curl upload')
        self.assertEqual(self.server.raw(mid), data)

    def test_curl_two_recipients(self):
        data = b'Subject: curl two\r\n\r\nbody\r\n'
        path = os.path.join(self.server.tmpdir, 'mail.eml')
        with open(path, 'wb') as f:
            f.write(data)
        self.curl(path, '--mail-from', 'a@b.test', '--mail-rcpt', 'c@d.test',
                  '--mail-rcpt', 'e@f.test')
        (mid,) = self.server.wait_for(1)
        self.assertEqual(self.server.show(mid)['rcpt_to'],
                         ['c@d.test', 'e@f.test'])
        self.assertEqual(self.server.raw(mid), data)


if __name__ == '__main__':
    harness.main()
