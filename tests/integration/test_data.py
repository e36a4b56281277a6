"""test_data.py - the DATA phase: dot-unstuffing, the strict CRLF.CRLF end
(no SMTP smuggling), exact stored octets, size limits, aborted DATA.

CONTRACT "The SMTP dialogue", paragraph "DATA".
"""

import hashlib
import random

import harness
from harness import ServerTestCase, simple_message


class DataTest(ServerTestCase):
    def open_data(self, c, mail_params=''):
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<a@b.test>%s' % (
            ' ' + mail_params if mail_params else ''), '250 2.1.0')
        self.assertCmd(c, 'RCPT TO:<c@d.test>', '250 2.1.5')
        self.assertCmd(c, 'DATA', '354')

    def wire(self, wire, want):
        """Send wire (everything after the 354, including the final
        CRLF.CRLF) and assert the stored octets are want."""
        c = self.connect()
        self.open_data(c)
        c.send(wire)
        mid = harness.queued_id(c.reply())
        got = self.server.raw(mid)
        self.assertEqual(got, want)
        self.assertEqual(self.server.show(mid)['size'], len(want))
        self.assertReply(c.cmd('NOOP'), '250 2.0.0')
        return mid

    def test_dot_unstuffing(self):
        self.wire(b'Subject: dots\r\n\r\n..leading\r\n..\r\n...two\r\n'
                  b'middle.dot\r\n. space\r\n.\r\n',
                  b'Subject: dots\r\n\r\n.leading\r\n.\r\n..two\r\n'
                  b'middle.dot\r\n space\r\n')

    def test_stuffed_first_line(self):
        self.wire(b'..first\r\nsecond\r\n.\r\n', b'.first\r\nsecond\r\n')

    def test_exact_octets_no_header_added(self):
        data = (b'Subject: exact\r\nX-Tab:\tv\r\n\r\n  spaces  \r\n'
                b'\r\n\r\nlast line\r\n')
        self.wire(data + b'.\r\n', data)

    def test_empty_message(self):
        # The CRLF before ".CRLF" belongs to the DATA line: nothing stored
        # but an empty message.
        self.wire(b'.\r\n', b'')

    def test_lf_dot_lf_does_not_end_data(self):
        self.wire(b'Subject: smuggle\r\n\r\nA\n.\nMAIL FROM:<evil@x.test>\n'
                  b'B\r\n.\r\n',
                  b'Subject: smuggle\r\n\r\nA\n.\nMAIL FROM:<evil@x.test>\n'
                  b'B\r\n')

    def test_lf_dot_crlf_does_not_end_data(self):
        self.wire(b'Subject: smuggle\r\n\r\nA\n.\r\nRSET\r\nB\r\n.\r\n',
                  b'Subject: smuggle\r\n\r\nA\n.\r\nRSET\r\nB\r\n')

    def test_crlf_dot_lf_does_not_end_data(self):
        # ".LF" after CRLF is neither the end nor a stuffed dot: the line
        # is kept as sent, dot included, and QUIT is not executed.
        self.wire(b'Subject: smuggle\r\n\r\nA\r\n.\nQUIT\r\nB\r\n.\r\n',
                  b'Subject: smuggle\r\n\r\nA\r\n.\nQUIT\r\nB\r\n')

    def test_smuggled_transaction_is_not_a_second_message(self):
        c = self.connect()
        self.open_data(c)
        c.send(b'Subject: outer\r\n\r\nx\n.\nMAIL FROM:<evil@x.test>\n'
               b'RCPT TO:<victim@x.test>\nDATA\nSubject: inner\n\nevil\n.\n'
               b'\r\n.\r\n')
        mid = harness.queued_id(c.reply())
        self.assertReply(c.cmd('NOOP'), '250 2.0.0')
        msgs = self.assertStoredCount(1)
        self.assertEqual(msgs[0]['id'], mid)
        self.assertEqual(msgs[0]['subject'], 'outer')

    def test_bare_lf_kept(self):
        self.wire(b'Subject: lf\n\nline one\nline two\r\nthree\n\r\n.\r\n',
                  b'Subject: lf\n\nline one\nline two\r\nthree\n\r\n')

    def test_bare_cr_kept(self):
        self.wire(b'Subject: cr\r\n\r\na\rb\r\n\r.\r\n.\r\n',
                  b'Subject: cr\r\n\r\na\rb\r\n\r.\r\n')

    def test_8bit_body(self):
        body = bytes(b for b in range(1, 256) if b not in (10, 13)) * 3
        data = (b'Subject: 8bit\r\nContent-Type: text/plain; '
                b'charset=latin1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
                + body + b'\r\n\xe9t\xe9\r\n')
        c = self.connect()
        self.open_data(c, 'BODY=8BITMIME')
        c.send(harness.dot_stuff(data) + b'.\r\n')
        mid = harness.queued_id(c.reply())
        self.assertEqual(self.server.raw(mid), data)

    def test_end_split_across_writes(self):
        c = self.connect()
        self.open_data(c)
        wire = b'Subject: split\r\n\r\n..a\r\nb\r\n.\r\n'
        for i in range(len(wire)):
            c.send(wire[i:i + 1])
        mid = harness.queued_id(c.reply())
        self.assertEqual(self.server.raw(mid),
                         b'Subject: split\r\n\r\n.a\r\nb\r\n')

    def test_long_lines_kept(self):
        data = b'Subject: long\r\n\r\n' + b'y' * 5000 + b'\r\n'
        self.wire(data + b'.\r\n', data)

    def test_five_megabytes_intact(self):
        rnd = random.Random(20240101)
        lines = []
        size = 0
        while size < 5 * 1024 * 1024:
            n = rnd.randrange(0, 200)
            line = bytes(rnd.randrange(33, 127) for _ in range(n))
            if rnd.random() < 0.05:
                line = b'.' + line
            lines.append(line)
            size += len(line) + 2
        data = b'Subject: big\r\n\r\n' + b'\r\n'.join(lines) + b'\r\n'
        c = self.connect(timeout=30)
        self.open_data(c)
        c.send(harness.dot_stuff(data) + b'.\r\n')
        mid = harness.queued_id(c.reply(timeout=30))
        raw = self.server.raw(mid)
        self.assertEqual(len(raw), len(data))
        self.assertEqual(hashlib.sha256(raw).hexdigest(),
                         hashlib.sha256(data).hexdigest())
        self.assertEqual(self.server.show(mid)['size'], len(data))

    def test_disconnect_mid_data_stores_nothing(self):
        c = self.connect()
        self.open_data(c)
        c.send(b'Subject: cut\r\n\r\nhalf a message\r\n')
        c.close()
        (s,) = self.server.wait_sessions_ended(1)
        self.assertStoredCount(0)
        # The server is still there.
        c2 = self.connect()
        c2.ehlo()
        c2.send_message('a@b.test', ['c@d.test'], simple_message())

    def test_second_transaction_after_data(self):
        c = self.connect()
        self.open_data(c)
        c.send(b'Subject: one\r\n\r\n1\r\n.\r\n')
        a = harness.queued_id(c.reply())
        # The transaction is over: RCPT needs a new MAIL.
        self.assertCmd(c, 'RCPT TO:<c@d.test>', '503 5.5.1')
        b = c.send_message('a@b.test', ['c@d.test'], b'Subject: two\r\n\r\n')
        self.assertGreater(b, a)


class MaxSizeTest(ServerTestCase):
    server_args = ('--max-size', '1K')

    def send_body(self, c, size):
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '250 2.1.0')
        self.assertCmd(c, 'RCPT TO:<c@d.test>', '250 2.1.5')
        self.assertCmd(c, 'DATA', '354')
        head = b'Subject: size\r\n\r\n'
        body = head + b'z' * (size - len(head) - 2) + b'\r\n'
        assert len(body) == size
        c.send(body + b'.\r\n')
        return body, c.reply()

    def test_oversize_rejected_after_data_and_session_goes_on(self):
        c = self.connect()
        body, r = self.send_body(c, 10 * 1024)
        self.assertReply(r, '552 5.3.4')
        self.assertEqual(self.server.messages(), [])
        # The session continues; the failed transaction is gone.
        self.assertCmd(c, 'RCPT TO:<c@d.test>', '503 5.5.1')
        mid = c.send_message('a@b.test', ['c@d.test'],
                             b'Subject: small\r\n\r\nok\r\n')
        msgs = self.assertStoredCount(1)
        self.assertEqual(msgs[0]['id'], mid)

    def test_limit_is_inclusive(self):
        c = self.connect()
        body, r = self.send_body(c, 1024)
        mid = harness.queued_id(r)
        self.assertEqual(self.server.raw(mid), body)
        c2 = self.connect()
        body, r = self.send_body(c2, 1025)
        self.assertReply(r, '552 5.3.4')
        self.assertStoredCount(1)

    def test_limit_counts_unstuffed_octets(self):
        # 1024 stored octets that take more than 1024 on the wire.
        c = self.connect()
        c.ehlo()
        c.cmd('MAIL FROM:<a@b.test>')
        c.cmd('RCPT TO:<c@d.test>')
        self.assertCmd(c, 'DATA', '354')
        data = b'.x\r\n' * 256
        c.send(harness.dot_stuff(data) + b'.\r\n')
        mid = harness.queued_id(c.reply())
        self.assertEqual(self.server.raw(mid), data)

    def test_mail_size_over_limit(self):
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<a@b.test> SIZE=1025', '552 5.3.4')
        self.assertCmd(c, 'MAIL FROM:<a@b.test> SIZE=1024', '250 2.1.0')

    def test_huge_data_is_read_to_its_end(self):
        # 3 MB against a 1K limit: read and dropped, then the next command.
        c = self.connect(timeout=30)
        c.ehlo()
        c.cmd('MAIL FROM:<a@b.test>')
        c.cmd('RCPT TO:<c@d.test>')
        self.assertCmd(c, 'DATA', '354')
        c.send((b'w' * 998 + b'\r\n') * 3000 + b'.\r\nNOOP\r\n')
        self.assertReply(c.reply(timeout=30), '552 5.3.4')
        self.assertReply(c.reply(), '250 2.0.0')
        self.assertEqual(self.server.messages(), [])

    def test_oversize_is_recorded_as_rejected(self):
        c = self.connect()
        body, r = self.send_body(c, 4096)
        self.assertReply(r, '552 5.3.4')
        c.quit()
        ss = self.server.wait_sessions_ended(1)
        rej = harness.pick(ss[0], 'rejections', 'rejects')
        self.assertTrue(rej, 'no rejected transaction recorded: %r' % ss[0])
        self.assertIn('552', str(rej))


if __name__ == '__main__':
    harness.main()
