"""test_smtp_basic.py - the ordinary SMTP dialogue, reply by reply.

CONTRACT "The SMTP dialogue": banner, EHLO keywords, HELO, MAIL, RCPT,
DATA, RSET, NOOP, VRFY, HELP, QUIT, and the queued id matching the store.
"""


import harness
from harness import ServerTestCase, simple_message

HOST = 'test.example'
CORE_EXTENSIONS = ['PIPELINING', 'SIZE', '8BITMIME', 'SMTPUTF8',
                   'ENHANCEDSTATUSCODES', 'CHUNKING', 'DSN']


def ehlo_keywords(reply):
    """{KEYWORD: [params]} from the lines after the first."""
    kw = {}
    for l in reply.lines[1:]:
        parts = l.split()
        kw.setdefault(parts[0].upper(), []).append(parts[1:])
    return kw


class BasicTest(ServerTestCase):
    server_kwargs = {'hostname': HOST}

    def test_banner_exact(self):
        c = self.connect()
        self.assertEqual(c.banner.raw, b'220 test.example ESMTP mailsink\r\n')

    def test_ehlo_extensions(self):
        c = self.connect()
        r = c.cmd('EHLO client.test')
        self.assertEqual(r.code, 250, str(r))
        self.assertGreater(len(r.lines), 1, 'EHLO reply is one line: %s' % r)
        self.assertEqual(r.lines[0].split()[0], HOST, str(r))
        for rl in r.raw.split(b'\r\n')[:-1]:
            self.assertRegex(rl, rb'^250[- ]', 'EHLO line %r' % rl)
        self.assertTrue(r.raw.endswith(b'\r\n'))
        kw = ehlo_keywords(r)
        for ext in CORE_EXTENSIONS:
            self.assertIn(ext, kw, 'EHLO lacks %s: %s' % (ext, r))
            self.assertEqual(len(kw[ext]), 1, '%s listed twice' % ext)
        self.assertEqual(kw['SIZE'], [['26214400']])
        for ext in ['PIPELINING', '8BITMIME', 'SMTPUTF8',
                    'ENHANCEDSTATUSCODES', 'CHUNKING', 'DSN']:
            self.assertEqual(kw[ext], [[]], '%s takes no parameter' % ext)

    def test_ehlo_auth_is_well_formed_when_offered(self):
        # STARTTLS and AUTH arrive with a later issue; until then only
        # check that whatever is advertised is what the contract names.
        c = self.connect()
        kw = ehlo_keywords(c.ehlo())
        if 'AUTH' not in kw and 'STARTTLS' not in kw:
            self.skipTest('STARTTLS/AUTH not offered yet (later issue)')
        if 'AUTH' in kw:
            self.assertEqual(set(kw['AUTH'][0]),
                             {'PLAIN', 'LOGIN', 'CRAM-MD5'})
        if 'STARTTLS' in kw:
            self.assertEqual(kw['STARTTLS'], [[]])

    def test_helo(self):
        c = self.connect()
        r = c.cmd('HELO client.test')
        self.assertReply(r, '250')
        self.assertEqual(len(r.lines), 1, 'HELO reply must be one line')
        self.assertEqual(r.lines[0].split()[0], HOST, str(r))

    def test_ehlo_twice_is_fine(self):
        c = self.connect()
        c.ehlo()
        c.ehlo('again.test')
        mid = c.send_message('a@b.test', ['c@d.test'], simple_message())
        self.assertEqual(self.server.show(mid)['helo'], 'again.test')

    def test_full_transaction_and_queued_id(self):
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<sender@example.test>', '250 2.1.0')
        self.assertCmd(c, 'RCPT TO:<rcpt@example.test>', '250 2.1.5')
        self.assertCmd(c, 'RCPT TO:<second@example.test>', '250 2.1.5')
        self.assertCmd(c, 'DATA', '354')
        data = simple_message('Basic subject', 'Body line')
        c.send(data + b'.\r\n')
        r = c.reply()
        self.assertReply(r, '250 2.0.0')
        self.assertRegex(r.text, r'^2\.0\.0 Ok: queued as \d+$')
        mid = harness.queued_id(r)
        m = self.server.show(mid)
        self.assertEqual(m['id'], mid)
        self.assertEqual(m['mail_from'], 'sender@example.test')
        self.assertEqual(m['rcpt_to'], ['rcpt@example.test',
                                        'second@example.test'])
        self.assertEqual(m['size'], len(data))
        self.assertEqual(m['subject'], 'Basic subject')
        self.assertEqual(m['helo'], 'client.test')
        self.assertEqual(m['client'], '127.0.0.1')
        self.assertIsNone(m['tls'])
        self.assertIsNone(m['user'])
        self.assertRegex(m['received'],
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$')
        self.assertEqual(self.server.raw(mid), data)
        self.assertReply(c.quit(), '221 2.0.0')

    def test_two_messages_in_one_session(self):
        c = self.connect()
        c.ehlo()
        a = c.send_message('a@b.test', ['c@d.test'], simple_message('one'))
        b = c.send_message('e@f.test', ['g@h.test'], simple_message('two'))
        self.assertNotEqual(a, b)
        self.assertEqual(self.server.show(a)['subject'], 'one')
        self.assertEqual(self.server.show(b)['subject'], 'two')
        self.assertEqual(self.server.show(b)['mail_from'], 'e@f.test')
        self.assertEqual(self.server.show(a)['session_id'],
                         self.server.show(b)['session_id'])

    def test_null_sender(self):
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<>', '250 2.1.0')
        self.assertCmd(c, 'RCPT TO:<postmaster@example.test>', '250 2.1.5')
        self.assertCmd(c, 'DATA', '354')
        c.send(simple_message('bounce') + b'.\r\n')
        mid = harness.queued_id(c.reply())
        self.assertEqual(self.server.show(mid)['mail_from'], '')

    def test_rset_noop_vrfy_help(self):
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'NOOP', '250 2.0.0')
        self.assertCmd(c, 'NOOP some argument', '250 2.0.0')
        self.assertCmd(c, 'RSET', '250 2.0.0')
        self.assertCmd(c, 'VRFY someone@example.test', '252 2.5.0')
        self.assertCmd(c, 'HELP', '214')
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '250 2.1.0')
        self.assertCmd(c, 'NOOP', '250 2.0.0')
        self.assertCmd(c, 'RSET', '250 2.0.0')
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '250 2.1.0')

    def test_commands_before_ehlo(self):
        c = self.connect()
        self.assertCmd(c, 'NOOP', '250 2.0.0')
        self.assertCmd(c, 'RSET', '250 2.0.0')
        self.assertCmd(c, 'HELP', '214')

    def test_quit_closes(self):
        c = self.connect()
        c.ehlo()
        r = c.cmd('QUIT')
        self.assertReply(r, '221 2.0.0')
        c.expect_closed()

    def test_quit_before_ehlo(self):
        c = self.connect()
        self.assertReply(c.cmd('QUIT'), '221 2.0.0')
        c.expect_closed()

    def test_no_header_added(self):
        c = self.connect()
        c.ehlo()
        data = b'Subject: bare\r\n\r\nbody\r\n'
        mid = c.send_message('a@b.test', ['c@d.test'], data)
        raw = self.server.raw(mid)
        self.assertEqual(raw, data)
        self.assertNotIn(b'Received:', raw)
        self.assertNotIn(b'Return-Path:', raw)


class MaxSizeAdvertTest(ServerTestCase):
    server_args = ('--max-size', '1K')

    def test_size_follows_max_size(self):
        c = self.connect()
        kw = ehlo_keywords(c.ehlo())
        self.assertEqual(kw.get('SIZE'), [['1024']])


class DefaultHostnameTest(ServerTestCase):
    def test_banner_form(self):
        c = self.connect()
        self.assertRegex(c.banner.raw,
                         rb'^220 [A-Za-z0-9._-]+ ESMTP mailsink\r\n$')
        host = c.banner.text.split()[0]
        r = c.cmd('EHLO x.test')
        self.assertEqual(r.lines[0].split()[0], host)


if __name__ == '__main__':
    harness.main()
