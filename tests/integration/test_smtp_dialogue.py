"""test_smtp_dialogue.py - command order, syntax errors, limits, ESMTP
parameters, lenient forms, BDAT and PIPELINING against the real server.

CONTRACT "The SMTP dialogue" reply table.
"""

import json

import harness
from harness import ServerTestCase, simple_message

# (label, [(command line, expected reply pattern)...]); each runs in a
# fresh connection (after the banner) on the class's server.
SEQUENCE_CASES = [
    ('mail before ehlo', [
        ('MAIL FROM:<a@b.test>', '503 5.5.1')]),
    ('rcpt before mail', [
        ('EHLO c.test', '250'),
        ('RCPT TO:<a@b.test>', '503 5.5.1')]),
    ('data before mail', [
        ('EHLO c.test', '250'),
        ('DATA', '503 5.5.1')]),
    ('data before rcpt', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b.test>', '250 2.1.0'),
        ('DATA', '503 5.5.1')]),
    ('nested mail', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b.test>', '250 2.1.0'),
        ('MAIL FROM:<c@d.test>', '503 5.5.1'),
        ('RCPT TO:<e@f.test>', '250 2.1.5')]),
    ('rset clears the transaction', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b.test>', '250 2.1.0'),
        ('RCPT TO:<c@d.test>', '250 2.1.5'),
        ('RSET', '250 2.0.0'),
        ('RCPT TO:<c@d.test>', '503 5.5.1'),
        ('DATA', '503 5.5.1'),
        ('MAIL FROM:<a@b.test>', '250 2.1.0')]),
    ('ehlo resets the transaction', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b.test>', '250 2.1.0'),
        ('EHLO c.test', '250'),
        ('RCPT TO:<c@d.test>', '503 5.5.1')]),
    ('unknown command', [
        ('FROB nicate', '500 5.5.2'),
        ('EHLO c.test', '250')]),
    ('empty line', [
        ('', '500|501')]),
    ('bad sender address', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b@c.test>', '501 5.1.7'),
        ('MAIL FROM:<a@b.test>', '250 2.1.0')]),
    ('bad recipient address', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b.test>', '250 2.1.0'),
        ('RCPT TO:<c@>', '501 5.1.3'),
        ('RCPT TO:<@d.test>', '501'),
        ('RCPT TO:<>', '501'),
        ('RCPT TO:<c@d.test>', '250 2.1.5')]),
    ('mail syntax', [
        ('EHLO c.test', '250'),
        ('MAIL TO:<a@b.test>', '501 5.5.4'),
        ('MAIL', '501 5.5.4'),
        ('MAIL FROM:<a@b.test>', '250 2.1.0'),
        ('RCPT FROM:<c@d.test>', '501 5.5.4')]),
    ('unknown parameter', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b.test> FROBNICATE=yes', '555 5.5.4'),
        ('MAIL FROM:<a@b.test>', '250 2.1.0'),
        ('RCPT TO:<c@d.test> FROBNICATE=yes', '555 5.5.4'),
        ('RCPT TO:<c@d.test>', '250 2.1.5')]),
    ('bad SIZE value', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b.test> SIZE=abc', '501 5.5.4'),
        ('MAIL FROM:<a@b.test> SIZE=', '501 5.5.4'),
        ('MAIL FROM:<a@b.test> SIZE=-1', '501 5.5.4'),
        ('MAIL FROM:<a@b.test> SIZE=99999999999999999999999', '501|552'),
        ('MAIL FROM:<a@b.test> SIZE=100', '250 2.1.0')]),
    ('SIZE over the limit', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b.test> SIZE=26214401', '552 5.3.4'),
        ('MAIL FROM:<a@b.test> SIZE=26214400', '250 2.1.0')]),
    ('bad BODY value', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b.test> BODY=9BIT', '501 5.5.4'),
        ('MAIL FROM:<a@b.test> BODY=7BIT', '250 2.1.0')]),
    ('bad DSN values', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b.test> RET=ALL', '501'),
        ('MAIL FROM:<a@b.test> RET=FULL ENVID=x+41y', '250 2.1.0'),
        ('RCPT TO:<c@d.test> NOTIFY=SOMETIMES', '501'),
        ('RCPT TO:<c@d.test> NOTIFY=NEVER,SUCCESS', '501'),
        ('RCPT TO:<c@d.test> NOTIFY=', '501'),
        ('RCPT TO:<c@d.test> ORCPT=nonsense', '501'),
        ('RCPT TO:<c@d.test> NOTIFY=NEVER', '250 2.1.5'),
        ('RCPT TO:<e@f.test> NOTIFY=delay', '250 2.1.5')]),
    ('lowercase verbs', [
        ('ehlo c.test', '250'),
        ('mail from:<a@b.test>', '250 2.1.0'),
        ('rcpt to:<c@d.test>', '250 2.1.5'),
        ('rset', '250 2.0.0'),
        ('noop', '250 2.0.0'),
        ('Mail From:<a@b.test>', '250 2.1.0'),
        ('quit', '221 2.0.0')]),
    ('lenient paths', [
        ('EHLO c.test', '250'),
        ('MAIL FROM: a@b.test', '250 2.1.0'),
        ('RCPT TO: <c@d.test>', '250 2.1.5'),
        ('RCPT TO:e@f.test', '250 2.1.5'),
        ('RCPT TO: g@h.test', '250 2.1.5')]),
    ('utf-8 address without SMTPUTF8', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<j\u00f6rg@b\u00fccher.test>', '5'),
        ('MAIL FROM:<a@b.test>', '250 2.1.0'),
        ('RCPT TO:<\u0443\u0441\u0435\u0440@\u043f\u0440\u0438\u043c\u0435'
         '\u0440.test>', '5'),
        ('RCPT TO:<c@d.test>', '250 2.1.5')]),
    ('BDAT before RCPT', [
        ('EHLO c.test', '250'),
        ('MAIL FROM:<a@b.test>', '250 2.1.0'),
        ('BDAT 0 LAST', '503 5.5.1')]),
    ('BDAT before MAIL', [
        ('EHLO c.test', '250'),
        ('BDAT 0 LAST', '503 5.5.1')]),
]


class SequenceTest(ServerTestCase):
    def test_sequences(self):
        for label, steps in SEQUENCE_CASES:
            with self.subTest(label):
                c = self.connect()
                for line, want in steps:
                    r = c.cmd(line)
                    self.assertReply(r, want, '%s: after %r' % (label, line))
                c.close()
        # None of those should have stored anything.
        self.assertStoredCount(0)

    def test_utf8_address_without_smtputf8_is_553(self):
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<j\u00f6rg@b\u00fccher.test>',
                       '553 5.6.7')
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '250 2.1.0')
        self.assertCmd(c, 'RCPT TO:<\u00fc@b\u00fccher.test>',
                       '553 5.6.7')

    def test_command_line_limit(self):
        c = self.connect()
        c.ehlo()
        # 512 octets with CRLF is the largest legal line (RFC 5321
        # 4.5.3.1.4); one more is too long.
        ok = 'NOOP ' + 'x' * (510 - 5)
        self.assertEqual(len(ok) + 2, 512)
        self.assertCmd(c, ok, '250 2.0.0')
        self.assertCmd(c, ok + 'y', '500 5.5.6')
        self.assertCmd(c, 'NOOP ' + 'z' * 5000, '500 5.5.6')
        self.assertCmd(c, 'NOOP', '250 2.0.0')
        mid = c.send_message('a@b.test', ['c@d.test'], simple_message())
        self.assertGreater(mid, 0)

    def test_long_mail_line_does_not_start_a_transaction(self):
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<%s@b.test>' % ('a' * 600), '500 5.5.6')
        self.assertCmd(c, 'RCPT TO:<c@d.test>', '503 5.5.1')

    def test_bare_lf_command_lines(self):
        c = self.connect()
        for line, want in [(b'EHLO c.test\n', '250'),
                           (b'MAIL FROM:<a@b.test>\n', '250 2.1.0'),
                           (b'RCPT TO:<c@d.test>\n', '250 2.1.5'),
                           (b'DATA\n', '354')]:
            c.send(line)
            self.assertReply(c.reply(), want, 'after %r' % line)
        data = simple_message('bare lf commands')
        c.send(data + b'.\r\n')
        mid = harness.queued_id(c.reply())
        self.assertEqual(self.server.raw(mid), data)
        c.send(b'QUIT\n')
        self.assertReply(c.reply(), '221 2.0.0')

    def test_leniencies_are_noted_in_session(self):
        c = self.connect()
        c.send(b'ehlo c.test\n')
        c.reply()
        self.assertCmd(c, 'MAIL FROM: a@b.test', '250 2.1.0')
        self.assertCmd(c, 'RCPT TO: <c@d.test>', '250 2.1.5')
        self.assertCmd(c, 'DATA', '354')
        c.send(simple_message() + b'.\r\n')
        harness.queued_id(c.reply())
        c.quit()
        (s,) = self.server.wait_sessions_ended(1)
        quirks = harness.pick(s, 'quirks', 'leniencies')
        self.assertTrue(quirks, 'no leniency recorded: %r' % s)

    def test_smtputf8_address_accepted_and_stored(self):
        sender = 'j\u00f6rg@b\u00fccher.test'
        rcpt = ('\u0443\u0441\u0435\u0440@'
                '\u043f\u0440\u0438\u043c\u0435\u0440.test')
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<%s> SMTPUTF8' % sender, '250 2.1.0')
        self.assertCmd(c, 'RCPT TO:<%s>' % rcpt, '250 2.1.5')
        self.assertCmd(c, 'DATA', '354')
        data = ('From: %s\r\nTo: %s\r\nSubject: \u00fcnicode\r\n\r\n'
                'Gr\u00fc\u00dfe\r\n' % (sender, rcpt)).encode('utf-8')
        c.send(data + b'.\r\n')
        mid = harness.queued_id(c.reply())
        m = self.server.show(mid)
        self.assertEqual(m['mail_from'], sender)
        self.assertEqual(m['rcpt_to'], [rcpt])
        self.assertEqual(self.server.raw(mid), data)

    def test_dsn_parameters_stored(self):
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<a@b.test> RET=HDRS ENVID=abc',
                       '250 2.1.0')
        self.assertCmd(c, 'RCPT TO:<c@d.test> NOTIFY=SUCCESS,FAILURE '
                       'ORCPT=rfc822;a@b.c', '250 2.1.5')
        self.assertCmd(c, 'DATA', '354')
        c.send(simple_message('dsn') + b'.\r\n')
        mid = harness.queued_id(c.reply())
        m = self.server.show(mid)
        self.assertIn('params', m)
        params = json.dumps(m['params']).upper()
        for want in ['HDRS', 'ABC', 'SUCCESS', 'FAILURE', 'RFC822;A@B.C']:
            self.assertIn(want, params, 'params: %r' % m['params'])

    def test_body_and_size_params_accepted(self):
        c = self.connect()
        c.ehlo()
        data = simple_message('params')
        self.assertCmd(c, 'MAIL FROM:<a@b.test> BODY=8BITMIME SIZE=%d'
                       % len(data), '250 2.1.0')
        self.assertCmd(c, 'RCPT TO:<c@d.test>', '250 2.1.5')
        self.assertCmd(c, 'DATA', '354')
        c.send(data + b'.\r\n')
        self.assertEqual(self.server.raw(harness.queued_id(c.reply())), data)


class BadBdatTest(ServerTestCase):
    def test_bad_bdat_argument(self):
        # 501; the server may then close, since it cannot know where the
        # chunk ends (the contract leaves that open), but it must not run
        # the chunk as commands or die.
        for arg in ('', ' x', ' 0 FIRST', ' -1', ' 12x',
                    ' 123456789012345678901234567890 LAST'):
            with self.subTest(arg=arg):
                c = self.connect()
                c.ehlo()
                c.cmd('MAIL FROM:<a@b.test>')
                c.cmd('RCPT TO:<c@d.test>')
                self.assertCmd(c, 'BDAT' + arg, '501 5.5.4')
                try:
                    self.assertReply(c.cmd('NOOP'), '250 2.0.0')
                except harness.Closed:
                    pass
                c.close()
        c = self.connect()
        c.ehlo()
        c.send_message('a@b.test', ['c@d.test'], simple_message())


class MaxRecipientsTest(ServerTestCase):
    server_args = ('--max-recipients', '3')

    def test_fourth_rcpt_refused(self):
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '250 2.1.0')
        for i in range(3):
            self.assertCmd(c, 'RCPT TO:<r%d@d.test>' % i, '250 2.1.5')
        self.assertCmd(c, 'RCPT TO:<r3@d.test>', '452 4.5.3')
        self.assertCmd(c, 'RCPT TO:<r4@d.test>', '452 4.5.3')
        self.assertCmd(c, 'DATA', '354')
        c.send(simple_message('three') + b'.\r\n')
        mid = harness.queued_id(c.reply())
        self.assertEqual(self.server.show(mid)['rcpt_to'],
                         ['r0@d.test', 'r1@d.test', 'r2@d.test'])
        # The limit is per transaction.
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '250 2.1.0')
        for i in range(3):
            self.assertCmd(c, 'RCPT TO:<s%d@d.test>' % i, '250 2.1.5')


class BdatTest(ServerTestCase):
    def start_txn(self, c):
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '250 2.1.0')
        self.assertCmd(c, 'RCPT TO:<c@d.test>', '250 2.1.5')

    def test_chunks_then_bdat_0_last(self):
        c = self.connect()
        self.start_txn(c)
        chunks = [b'Subject: bdat\r\n', b'\r\nfirst chunk\r\n',
                  b'.leading dot kept as is\r\n', b'no final crlf']
        for ch in chunks:
            c.send(b'BDAT %d\r\n' % len(ch) + ch)
            self.assertReply(c.reply(), '250')
        c.send(b'BDAT 0 LAST\r\n')
        mid = harness.queued_id(c.reply())
        self.assertEqual(self.server.raw(mid), b''.join(chunks))
        self.assertEqual(self.server.show(mid)['size'],
                         len(b''.join(chunks)))

    def test_single_bdat_last(self):
        c = self.connect()
        self.start_txn(c)
        body = b'Subject: one\r\n\r\n.\r\nline with CRLF.CRLF inside\r\n.\r\n'
        c.send(b'BDAT %d LAST\r\n' % len(body) + body)
        mid = harness.queued_id(c.reply())
        self.assertEqual(self.server.raw(mid), body)

    def test_bdat_last_lowercase_and_split_writes(self):
        c = self.connect()
        self.start_txn(c)
        body = b'Subject: split\r\n\r\n' + b'x' * 3000 + b'\r\n'
        c.send(b'BDAT %d last\r\n' % len(body))
        for i in range(0, len(body), 700):
            c.send(body[i:i + 700])
        mid = harness.queued_id(c.reply())
        self.assertEqual(self.server.raw(mid), body)

    def test_data_after_bdat_refused(self):
        c = self.connect()
        self.start_txn(c)
        c.send(b'BDAT 5\r\nhello')
        self.assertReply(c.reply(), '250')
        self.assertCmd(c, 'DATA', '503 5.5.1')

    def test_refused_bdat_chunk_is_not_executed(self):
        # The BDAT size says where the next command starts, so the chunk
        # of a refused BDAT is read and dropped (RFC 3030: the receiver
        # "must accept and discard" chunks after a failure), never taken
        # as commands.
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '250 2.1.0')
        c.send(b'BDAT 6\r\nNOOP\r\n')
        self.assertReply(c.reply(), '503 5.5.1')
        self.assertCmd(c, 'RSET', '250 2.0.0')
        self.assertCmd(c, 'HELP', '214')

    def test_bdat_then_pipelined_commands(self):
        c = self.connect()
        self.start_txn(c)
        body = b'Subject: pipe\r\n\r\nbody\r\n'
        c.send(b'BDAT %d LAST\r\n' % len(body) + body + b'NOOP\r\nQUIT\r\n')
        mid = harness.queued_id(c.reply())
        self.assertReply(c.reply(), '250 2.0.0')
        self.assertReply(c.reply(), '221 2.0.0')
        self.assertEqual(self.server.raw(mid), body)


class PipeliningTest(ServerTestCase):
    def test_envelope_in_one_write(self):
        c = self.connect()
        c.ehlo()
        c.send(b'MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n'
               b'RCPT TO:<e@f.test>\r\nDATA\r\n')
        rs = c.replies(4)
        for r, want in zip(rs, ['250 2.1.0', '250 2.1.5', '250 2.1.5',
                                '354']):
            self.assertReply(r, want)
        data = simple_message('pipelined')
        c.send(data + b'.\r\nQUIT\r\n')
        mid = harness.queued_id(c.reply())
        self.assertReply(c.reply(), '221 2.0.0')
        c.expect_closed()
        m = self.server.show(mid)
        self.assertEqual(m['rcpt_to'], ['c@d.test', 'e@f.test'])
        self.assertEqual(self.server.raw(mid), data)

    def test_whole_session_in_one_write(self):
        c = self.connect()
        data = simple_message('one write')
        c.send(b'EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n'
               b'DATA\r\n' + data + b'.\r\nMAIL FROM:<x@y.test>\r\n'
               b'RCPT TO:<z@y.test>\r\nDATA\r\n' + data + b'.\r\nQUIT\r\n')
        rs = c.replies(9)
        wants = ['250', '250 2.1.0', '250 2.1.5', '354', '250 2.0.0',
                 '250 2.1.0', '250 2.1.5', '354', '250 2.0.0']
        for r, want in zip(rs, wants):
            self.assertReply(r, want)
        self.assertReply(c.reply(), '221 2.0.0')
        a, b = harness.queued_id(rs[4]), harness.queued_id(rs[8])
        self.assertEqual(self.server.raw(a), data)
        self.assertEqual(self.server.raw(b), data)
        self.assertEqual(self.server.show(b)['mail_from'], 'x@y.test')

    def test_errors_in_a_pipeline_keep_order(self):
        c = self.connect()
        c.ehlo()
        c.send(b'RCPT TO:<c@d.test>\r\nMAIL FROM:<a@b.test>\r\nFROB\r\n'
               b'RCPT TO:<bad@>\r\nRCPT TO:<c@d.test>\r\nNOOP\r\n')
        rs = c.replies(6)
        for r, want in zip(rs, ['503 5.5.1', '250 2.1.0', '500 5.5.2',
                                '501 5.1.3', '250 2.1.5', '250 2.0.0']):
            self.assertReply(r, want)

    def flood(self, c, line, n):
        """Send n copies of line in one write (from a thread, so a server
        that stops reading while its replies are unread cannot deadlock
        us) and read exactly n replies."""
        sender = c.send_background(line * n)
        rs = c.replies(n, timeout=30)
        self.assertIsNone(sender.join(), 'send failed')
        return rs

    def test_10000_pipelined_noops(self):
        c = self.connect()
        c.ehlo()
        rs = self.flood(c, b'NOOP\r\n', 10000)
        bad = [str(r) for r in rs if not r.matches('250 2.0.0')]
        self.assertEqual(bad, [])
        # Exactly 10,000: the next reply is the NOOP sent now.
        self.assertCmd(c, 'HELP', '214')
        mid = c.send_message('a@b.test', ['c@d.test'], simple_message('after'))
        self.assertEqual(self.server.show(mid)['subject'], 'after')
        c2 = self.connect()
        c2.ehlo()
        c2.send_message('a@b.test', ['c@d.test'], simple_message('other'))

    def test_10000_pipelined_rsets(self):
        c = self.connect()
        c.ehlo()
        c.cmd('MAIL FROM:<a@b.test>')
        rs = self.flood(c, b'RSET\r\n', 10000)
        bad = [str(r) for r in rs if not r.matches('250 2.0.0')]
        self.assertEqual(bad, [])
        self.assertCmd(c, 'RCPT TO:<c@d.test>', '503 5.5.1')


if __name__ == '__main__':
    harness.main()
