"""test_rules.py - reject rules, magic addresses and their records, driven
by real clients (CONTRACT "Reject rules", issue 4).

Every stage (connect, helo, auth, mail, rcpt, data) is tried with every
action (reply, disconnect, delay, accept) through a raw socket client, and
the failures a sender meets in real life are tried with the clients people
use: Python smtplib must raise the exception it raises against a real
server, and swaks must name the failing stage in its output and its exit
status.  Greylisting is run end to end; delays are measured against a
no-delay run in the same test; `probability` is counted over 1,000
pipelined RCPTs and replayed with the same seed; the CLI plumbing of rule
errors (FILE:LINE:COL, and the column for --rule) is compared line for
line; SIGHUP reloads are checked for new rules, bad files and counters.

Each test starts its own server.  Nothing sleeps for a fixed time: replies
are read with deadlines and the store and the log are polled.  swaks is
needed only by the tests that use it; without it they are skipped.
"""

import base64
import os
import shlex
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Closed, ServerTestCase, poll, text

HAVE_SWAKS = shutil.which('swaks') is not None

DELAY_MIN = 0.45        # seconds a `delay 500ms` must take at least
NORMAL_MAX = 0.3        # seconds an undelayed reply must take at most

# swaks(1) "EXIT CODES": the failing stage is in the exit status.
SWAKS_BANNER, SWAKS_HELO, SWAKS_MAIL, SWAKS_RCPT = 21, 22, 23, 24
SWAKS_DATA_END, SWAKS_AUTH = 26, 28


def rule_args(*rules):
    """['--rule', R1, '--rule', R2, ...]"""
    out = []
    for r in rules:
        out += ['--rule', r]
    return out


def message(subject, body='hello'):
    """A small message as bytes, CRLF line ends."""
    return ('From: App <app@sender.test>\r\nTo: user@example.test\r\n'
            'Subject: %s\r\n\r\n%s\r\n' % (subject, body)).encode('utf-8')


def plain(user, password='secret'):
    """The AUTH PLAIN initial response for user/password."""
    return base64.b64encode(b'\0' + user.encode() + b'\0'
                            + password.encode()).decode()


def free_ipv6_port():
    """A port free on ::1 just now, or None without IPv6.  Only for
    [::1] listeners: `--smtp [::1]:0` fails to start (see
    notes/rules-failures.md), and this test is about connect rules."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(('::1', 0))
            return s.getsockname()[1]
    except OSError:
        return None


class RulesCase(ServerTestCase):
    """Servers are started by each test with the rules it needs."""

    start_server = False

    def serve(self, *rules, args=(), **kw):
        """Start a server with these --rule values (and extra args); it
        becomes self.server."""
        self.server = self.start(*(rule_args(*rules) + list(args)), **kw)
        return self.server

    def smtp(self, server=None, name='smtplib.test'):
        s = server or self.server
        return smtplib.SMTP('127.0.0.1', s.port, local_hostname=name,
                            timeout=10)

    def rejections(self, server=None, n=1, outcome=None, stage=None):
        """Poll `sessions --json --rejected` until at least n rejections
        (with this outcome and stage, if given) are recorded; return them
        as a list of (session, rejection)."""
        s = server or self.server

        def get():
            out = []
            for sess in s.sessions('--rejected'):
                for rj in sess['rejections']:
                    if outcome is not None and rj['outcome'] != outcome:
                        continue
                    if stage is not None and rj['stage'] != stage:
                        continue
                    out.append((sess, rj))
            return out if len(out) >= n else None
        return poll(get, timeout=5.0, step=0.05,
                    what='%d recorded rejection(s) (outcome=%s stage=%s)'
                    % (n, outcome, stage))

    def session_outcome(self, server=None):
        """The only session (from `sessions --json`), once it has ended."""
        (sess,) = (server or self.server).wait_sessions_ended(1)
        return sess

    def expect_closed(self, client):
        """The server closes without another byte; then close our end, as
        a real client does (the server lingers until it sees our FIN)."""
        client.expect_closed()
        client.close()

    def timed_cmd(self, client, line):
        """Send line, read the reply; return (reply, seconds)."""
        t0 = time.monotonic()
        r = client.cmd(line)
        return r, time.monotonic() - t0

    def swaks(self, port, *args, helo='swaks.test'):
        """Run swaks against port; return (exit status, output)."""
        if not HAVE_SWAKS:
            self.skipTest('swaks not found')
        argv = ['swaks', '--server', '127.0.0.1:%d' % port, '--helo', helo,
                '--timeout', '20'] + list(args)
        r = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = text(r.stdout)
        self.note('$ %s\n%s(exit %d)' % (' '.join(argv), out, r.returncode))
        return r.returncode, out

    def assertAfter(self, out, first, then):
        """then occurs in out after the first occurrence of first."""
        i = out.find(first)
        self.assertGreaterEqual(i, 0, '%r not in swaks output:\n%s'
                                % (first, out))
        self.assertGreater(out.find(then, i), i, '%r not after %r in swaks '
                           'output:\n%s' % (then, first, out))


# ------------------------------------------------------ stage x action

# For each stage: a MATCH, the value that fits it, the reply a rule sends
# there, and the normal reply.
STAGES = {
    'connect': ('127.0.0.1', None, '554 5.7.1', 220),
    'helo': ('hit.test', 'hit.test', '550 5.7.1', 250),
    'auth': ('hit', 'hit', '535 5.7.8', 235),
    'mail': ('hit@*', 'hit@example.test', '550 5.7.1', 250),
    'rcpt': ('hit@*', 'hit@example.test', '550 5.7.1', 250),
    'data': ('Subject=*hit*', 'a hit here', '550 5.7.1', 250),
}


class StageActionTest(RulesCase):
    """Every stage with every action, through a raw client."""

    def drive(self, stage, value):
        """Connect and walk the dialogue up to stage with value; return
        (client, reply of that stage, seconds it took).  Raises Closed
        if the server hangs up instead of replying."""
        if stage == 'connect':
            t0 = time.monotonic()
            c = self.connect(banner=False)
            return c, c.reply(), time.monotonic() - t0
        c = self.connect()
        self.assertReply(c.banner, '220')
        if stage == 'helo':
            r, dt = self.timed_cmd(c, 'EHLO ' + value)
            return c, r, dt
        c.ehlo()
        if stage == 'auth':
            r, dt = self.timed_cmd(c, 'AUTH PLAIN ' + plain(value))
            return c, r, dt
        if stage == 'mail':
            r, dt = self.timed_cmd(c, 'MAIL FROM:<%s>' % value)
            return c, r, dt
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250 2.1.0')
        if stage == 'rcpt':
            r, dt = self.timed_cmd(c, 'RCPT TO:<%s>' % value)
            return c, r, dt
        self.assertCmd(c, 'RCPT TO:<user@example.test>', '250 2.1.5')
        self.assertCmd(c, 'DATA', '354')
        t0 = time.monotonic()
        c.send(message(value) + b'.\r\n')
        r = c.reply()
        return c, r, time.monotonic() - t0

    def test_reply(self):
        for stage, (match, value, reply, _) in STAGES.items():
            with self.subTest(stage=stage):
                code, enh = reply.split()
                s = self.serve('%s %s reply %s %s "Rule hit"'
                               % (stage, match, code, enh))
                c, r, _ = self.drive(stage, value)
                self.assertReply(r, reply)
                self.assertEqual(r.text, '%s Rule hit' % enh)
                if stage == 'connect':
                    # RFC 5321 3.1: a refused greeting is the only reply.
                    self.expect_closed(c)
                    self.assertEqual(self.session_outcome()['outcome'],
                                     'rejected')
                else:
                    self.assertCmd(c, 'NOOP', '250')
                    c.quit()
                self.assertStoredCount(0, s)

    def test_disconnect(self):
        for stage, (match, value, _, _) in STAGES.items():
            with self.subTest(stage=stage):
                s = self.serve('%s %s disconnect' % (stage, match))
                with self.assertRaises(Closed):
                    self.drive(stage, value)
                c = self.clients[-1]
                self.assertEqual(c.buf, b'', 'bytes before the close')
                c.close()
                self.assertEqual(self.session_outcome()['outcome'],
                                 'dropped')
                self.assertStoredCount(0, s)

    def test_delay(self):
        for stage, (match, value, _, normal) in STAGES.items():
            with self.subTest(stage=stage):
                s = self.serve('%s %s delay 300ms' % (stage, match))
                c, r, dt = self.drive(stage, value)
                self.assertEqual(r.code, normal, str(r))
                self.assertGreaterEqual(dt, 0.28, 'reply came too soon')
                c.quit()
                self.assertStoredCount(1 if stage == 'data' else 0, s)

    def test_accept_stops_evaluation(self):
        # accept fires once (times 1): the first attempt takes the normal
        # path although the next rule rejects everything, the second one
        # falls through to that rule.
        for stage, (match, value, reply, normal) in STAGES.items():
            with self.subTest(stage=stage):
                code, enh = reply.split()
                s = self.serve('%s %s accept times 1' % (stage, match),
                               '%s * reply %s %s "Everything refused"'
                               % (stage, code, enh))
                c, r, _ = self.drive(stage, value)
                self.assertEqual(r.code, normal, str(r))
                c.close()
                c, r, _ = self.drive(stage, value)
                self.assertReply(r, reply)
                self.assertIn('Everything refused', r.text)
                c.close()
                self.assertStoredCount(1 if stage == 'data' else 0, s)

    def test_421_closes_at_every_stage(self):
        for stage, (match, value, _, _) in STAGES.items():
            with self.subTest(stage=stage):
                s = self.serve('%s %s reply 421 4.3.2 "Closing now"'
                               % (stage, match))
                c, r, _ = self.drive(stage, value)
                self.assertReply(r, '421 4.3.2')
                self.expect_closed(c)
                self.assertEqual(self.session_outcome()['outcome'],
                                 'closed')
                self.assertStoredCount(0, s)


# ------------------------------------------------------------- connect

class ConnectRuleTest(RulesCase):
    def test_554_is_the_banner(self):
        self.serve('connect * reply 554 5.7.1 "No SMTP service here"')
        c = self.connect()
        self.assertReply(c.banner, '554 5.7.1')
        self.assertEqual(c.banner.text, '5.7.1 No SMTP service here')
        self.expect_closed(c)
        with self.assertRaises(smtplib.SMTPConnectError) as cm:
            self.smtp()
        self.assertEqual(cm.exception.smtp_code, 554)
        self.assertIn(b'No SMTP service here', cm.exception.smtp_error)

    def test_421_is_the_banner(self):
        self.serve('connect 127.0.0.1 reply 421 4.3.2 "Too busy"')
        c = self.connect()
        self.assertReply(c.banner, '421 4.3.2')
        self.expect_closed(c)
        with self.assertRaises(smtplib.SMTPConnectError) as cm:
            self.smtp()
        self.assertEqual(cm.exception.smtp_code, 421)

    def test_disconnect_without_a_banner(self):
        self.serve('connect * disconnect')
        c = self.connect(banner=False)
        self.expect_closed(c)
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            self.smtp()
        ss = self.server.wait_sessions_ended(2)
        self.assertEqual([x['outcome'] for x in ss], ['dropped', 'dropped'])

    def test_delay_then_banner(self):
        # times 1: the same client is delayed once, so the second
        # connection is the no-delay run.
        self.serve('connect 127.0.0.1 delay 500ms times 1')
        t0 = time.monotonic()
        c = self.connect()
        delayed = time.monotonic() - t0
        self.assertReply(c.banner, '220')
        t0 = time.monotonic()
        c2 = self.connect()
        normal = time.monotonic() - t0
        self.assertReply(c2.banner, '220')
        self.assertGreaterEqual(delayed, DELAY_MIN)
        self.assertLess(normal, NORMAL_MAX)
        c.quit()
        c2.quit()

    def test_cidr(self):
        # 10.0.0.0/8 does not contain 127.0.0.1; 127.0.0.0/8 does, and
        # the first matching rule wins over a later one.
        self.serve('connect 10.0.0.0/8 reply 554 5.7.1 "ten"',
                   'connect 127.0.0.0/8 reply 554 5.7.1 "loopback"',
                   'connect * reply 554 5.7.1 "anyone"')
        c = self.connect()
        self.assertEqual(c.banner.text, '5.7.1 loopback')
        s2 = self.start(*rule_args('connect 10.0.0.0/8 reply 554 "ten"',
                                   'connect 127.0.0.2 reply 554 "two"'))
        c = self.connect(s2)
        self.assertReply(c.banner, '220')
        c.quit()

    @unittest.skipIf(free_ipv6_port() is None, 'no IPv6 loopback')
    def test_cidr_ipv4_and_ipv6(self):
        s = self.serve('connect 127.0.0.0/8 reply 554 5.7.1 "v4"',
                       'connect ::1/128 reply 554 5.7.1 "v6 loopback"',
                       smtp=['127.0.0.1:0', '[::1]:%d' % free_ipv6_port()])
        (_, _, p4), (_, _, p6) = s.listeners
        c = self.connect(s)
        self.assertEqual(c.banner.text, '5.7.1 v4')
        c6 = harness.Client(p6, host='::1')
        self.clients.append(c6)
        self.assertEqual(c6.banner.text, '5.7.1 v6 loopback')
        s2 = self.start(*rule_args('connect 127.0.0.0/8 reply 554 "v4"'),
                        smtp=['[::1]:%d' % free_ipv6_port()])
        c6 = harness.Client(s2.port, host='::1')
        self.clients.append(c6)
        self.assertReply(c6.banner, '220')
        c6.quit()


# ---------------------------------------------------------------- helo

class HeloRuleTest(RulesCase):
    def test_glob_550(self):
        self.serve('helo *.bad.test reply 550 5.7.1 "Go away"')
        c = self.connect()
        self.assertCmd(c, 'EHLO host.BAD.test', '550 5.7.1')
        self.assertCmd(c, 'HELO host.bad.test', '550 5.7.1')
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '503 5.5.1')
        self.assertCmd(c, 'EHLO bad.test', '250')   # *. needs a dot
        c.quit()
        with self.smtp(name='mx.bad.test') as s:
            with self.assertRaises(smtplib.SMTPHeloError) as cm:
                s.sendmail('app@sender.test', ['user@example.test'],
                           message('helo'))
        self.assertEqual(cm.exception.smtp_code, 550)
        self.assertStoredCount(0)

    def test_disconnect(self):
        self.serve('helo drop.test disconnect')
        with self.smtp(name='drop.test') as s:
            with self.assertRaises(smtplib.SMTPServerDisconnected):
                s.ehlo()
        self.assertEqual(self.session_outcome()['outcome'], 'dropped')

    def test_delay_against_no_delay(self):
        self.serve('helo slow.test delay 500ms')
        c = self.connect()
        r, delayed = self.timed_cmd(c, 'EHLO slow.test')
        self.assertReply(r, '250')
        r, normal = self.timed_cmd(c, 'EHLO fast.test')
        self.assertReply(r, '250')
        self.assertGreaterEqual(delayed, DELAY_MIN)
        self.assertLess(normal, NORMAL_MAX)
        c.quit()


# ---------------------------------------------------------------- auth

class AuthRuleTest(RulesCase):
    RULES = ('auth baduser reply 535 5.7.8 '
             '"Authentication credentials invalid"',
             'auth tempuser reply 454 4.7.0 '
             '"Temporary authentication failure"')

    def test_smtplib_login(self):
        self.serve(*self.RULES)
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                s.login('baduser', 'secret')
            self.assertEqual(cm.exception.smtp_code, 535)
            self.assertIn(b'5.7.8', cm.exception.smtp_error)
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                s.login('tempuser', 'secret')
            self.assertEqual(cm.exception.smtp_code, 454)
            self.assertIn(b'4.7.0', cm.exception.smtp_error)
        with self.smtp() as s:
            self.assertEqual(s.login('gooduser', 'secret')[0], 235)
            s.sendmail('app@sender.test', ['user@example.test'],
                       message('after auth'))
        (mid,) = self.server.wait_for(1)
        self.assertEqual(self.server.show(mid)['user'], 'gooduser')

    def test_raw_every_mechanism(self):
        # The rule sees the user name whatever the mechanism.
        self.serve(*self.RULES)
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'AUTH PLAIN ' + plain('baduser'), '535 5.7.8')
        self.assertCmd(c, 'AUTH LOGIN', '334')
        self.assertCmd(c, base64.b64encode(b'tempuser').decode(), '334')
        self.assertCmd(c, base64.b64encode(b'pw').decode(), '454 4.7.0')
        self.assertCmd(c, 'AUTH PLAIN ' + plain('other'), '235 2.7.0')
        c.quit()

    def test_swaks_auth(self):
        s = self.serve(*self.RULES)
        rc, out = self.swaks(s.port, '--from', 'app@sender.test', '--to',
                             'user@example.test', '--auth', 'PLAIN',
                             '--auth-user', 'baduser', '--auth-password',
                             'secret')
        self.assertEqual(rc, SWAKS_AUTH)
        self.assertAfter(out, ' -> AUTH PLAIN', '<** 535 5.7.8')
        rc, out = self.swaks(s.port, '--from', 'app@sender.test', '--to',
                             'user@example.test', '--auth', 'LOGIN',
                             '--auth-user', 'tempuser', '--auth-password',
                             'secret')
        self.assertEqual(rc, SWAKS_AUTH)
        self.assertIn('<** 454 4.7.0 Temporary authentication failure',
                      out)
        self.assertStoredCount(0)


# ---------------------------------------------------------------- mail

class MailRuleTest(RulesCase):
    def test_550_smtplib(self):
        self.serve('mail *@blocked.test reply 550 5.1.8 "Sender rejected"')
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                s.sendmail('spam@Blocked.test', ['user@example.test'],
                           message('blocked'))
            self.assertEqual(cm.exception.smtp_code, 550)
            self.assertEqual(cm.exception.smtp_error,
                             b'5.1.8 Sender rejected')
            self.assertEqual(cm.exception.sender, 'spam@Blocked.test')
            # The session goes on: another sender is fine.
            self.assertEqual(s.sendmail('app@sender.test',
                                        ['user@example.test'],
                                        message('allowed')), {})
        (mid,) = self.server.wait_for(1)
        self.assertEqual(self.server.show(mid)['subject'], 'allowed')
        self.assertStoredCount(1)
        ((sess, rj),) = self.rejections(outcome='rejected')
        self.assertEqual(rj['stage'], 'mail')
        self.assertEqual(rj['mail_from'], 'spam@Blocked.test')
        self.assertEqual(rj['reply'], '550 5.1.8 Sender rejected')
        self.assertEqual(sess['messages'], [mid])

    def test_swaks_reports_mail(self):
        s = self.serve('mail *@blocked.test reply 550 5.1.8 '
                       '"Sender rejected"')
        rc, out = self.swaks(s.port, '--from', 'spam@blocked.test', '--to',
                             'user@example.test')
        self.assertEqual(rc, SWAKS_MAIL)
        self.assertAfter(out, ' -> MAIL FROM:<spam@blocked.test>',
                         '<** 550 5.1.8 Sender rejected')
        self.assertNotIn('RCPT TO', out)
        self.assertStoredCount(0)

    def test_delay_against_no_delay(self):
        self.serve('mail slow@* delay 500ms')
        c = self.connect()
        c.ehlo()
        r, delayed = self.timed_cmd(c, 'MAIL FROM:<slow@sender.test>')
        self.assertReply(r, '250 2.1.0')
        self.assertCmd(c, 'RSET', '250')
        r, normal = self.timed_cmd(c, 'MAIL FROM:<fast@sender.test>')
        self.assertReply(r, '250 2.1.0')
        self.assertGreaterEqual(delayed, DELAY_MIN)
        self.assertLess(normal, NORMAL_MAX)
        c.quit()

    def test_disconnect(self):
        self.serve('mail drop@* disconnect')
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPServerDisconnected):
                s.sendmail('drop@sender.test', ['user@example.test'],
                           message('dropped'))
        sess = self.session_outcome()
        self.assertEqual(sess['outcome'], 'dropped')
        self.assertEqual(len(sess['rejections']), 1, sess['rejections'])
        rj = sess['rejections'][0]
        self.assertEqual((rj['stage'], rj['outcome'], rj['mail_from'],
                          rj['reply']),
                         ('mail', 'disconnected', 'drop@sender.test', None))
        self.assertStoredCount(0)


# ---------------------------------------------------------------- rcpt

class RcptRuleTest(RulesCase):
    UNKNOWN = 'rcpt nobody@* reply 550 5.1.1 "User unknown"'

    def test_550_smtplib_recipients_refused(self):
        self.serve(self.UNKNOWN)
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                s.sendmail('app@sender.test', ['nobody@example.test'],
                           message('refused'))
        self.assertEqual(cm.exception.recipients,
                         {'nobody@example.test': (550, b'5.1.1 User unknown')})
        self.assertStoredCount(0)
        ((_, rj),) = self.rejections(outcome='rejected')
        self.assertEqual((rj['stage'], rj['mail_from'], rj['rcpt'],
                          rj['reply']),
                         ('rcpt', 'app@sender.test', 'nobody@example.test',
                          '550 5.1.1 User unknown'))

    def test_one_of_two_refused(self):
        self.serve(self.UNKNOWN)
        with self.smtp() as s:
            refused = s.sendmail('app@sender.test',
                                 ['nobody@example.test', 'alice@example.test'],
                                 message('one of two'))
        self.assertEqual(refused,
                         {'nobody@example.test': (550, b'5.1.1 User unknown')})
        (mid,) = self.server.wait_for(1)
        m = self.server.show(mid)
        self.assertEqual(m['rcpt_to'], ['alice@example.test'])
        self.assertEqual(m['subject'], 'one of two')
        self.assertStoredCount(1)

    def test_swaks_reports_rcpt(self):
        s = self.serve(self.UNKNOWN)
        rc, out = self.swaks(s.port, '--from', 'app@sender.test', '--to',
                             'nobody@example.test')
        self.assertEqual(rc, SWAKS_RCPT)
        self.assertAfter(out, ' -> RCPT TO:<nobody@example.test>',
                         '<** 550 5.1.1 User unknown')
        self.assertNotIn(' -> DATA', out)
        self.assertStoredCount(0)

    def test_delay_against_no_delay(self):
        self.serve('rcpt slow@* delay 500ms')
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        r, delayed = self.timed_cmd(c, 'RCPT TO:<slow@example.test>')
        self.assertReply(r, '250 2.1.5')
        r, normal = self.timed_cmd(c, 'RCPT TO:<fast@example.test>')
        self.assertReply(r, '250 2.1.5')
        self.assertGreaterEqual(delayed, DELAY_MIN)
        self.assertLess(normal, NORMAL_MAX)
        c.quit()

    def test_delay_holds_pipelined_commands(self):
        # A delay pauses the session: replies to commands pipelined after
        # the delayed RCPT come after it, in order.
        self.serve('rcpt slow@* delay 500ms')
        c = self.connect()
        c.ehlo()
        t0 = time.monotonic()
        c.send('MAIL FROM:<app@sender.test>\r\nRCPT TO:<slow@example.test>'
               '\r\nRCPT TO:<fast@example.test>\r\nNOOP\r\n')
        rs = c.replies(4)
        self.assertGreaterEqual(time.monotonic() - t0, DELAY_MIN)
        self.assertEqual([r.code for r in rs], [250, 250, 250, 250])
        self.assertIn('slow@example.test', rs[1].text)
        self.assertIn('fast@example.test', rs[2].text)
        c.quit()

    def test_disconnect_seen_as_dropped(self):
        self.serve('rcpt drop@* disconnect')
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPServerDisconnected):
                s.sendmail('app@sender.test', ['drop@example.test'],
                           message('dropped'))
        self.assertStoredCount(0)
        sess = self.session_outcome()
        self.assertEqual(sess['outcome'], 'dropped')
        self.assertEqual(sess['messages'], [])
        # One record: the transaction a rule dropped at RCPT.
        self.assertEqual([(rj['stage'], rj['outcome'], rj['mail_from'],
                           rj['rcpt'], rj['reply'])
                          for rj in sess['rejections']],
                         [('rcpt', 'disconnected', 'app@sender.test',
                           'drop@example.test', None)])

    def test_421_closes(self):
        self.serve('rcpt close@* reply 421 4.3.2 "Shutting down"')
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        self.assertCmd(c, 'RCPT TO:<close@example.test>', '421 4.3.2')
        self.expect_closed(c)
        # One record: the RCPT refused with the 421.
        sess = self.session_outcome()
        self.assertEqual(sess['outcome'], 'closed')
        self.assertEqual([(rj['stage'], rj['outcome'], rj['rcpt'],
                           rj['reply']) for rj in sess['rejections']],
                         [('rcpt', 'rejected', 'close@example.test',
                           '421 4.3.2 Shutting down')])
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                s.sendmail('app@sender.test', ['close@example.test'],
                           message('421'))
            self.assertEqual(cm.exception.recipients['close@example.test'][0],
                             421)
            self.assertIsNone(s.sock, 'smtplib did not see the close')
        self.assertStoredCount(0)

    def test_first_match_wins(self):
        self.serve('rcpt a@* reply 551 5.1.6 "first"',
                   'rcpt *@example.test reply 552 5.2.2 "second"',
                   'rcpt a@* reply 553 5.1.3 "never"')
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        self.assertCmd(c, 'RCPT TO:<a@example.test>', '551 5.1.6')
        self.assertCmd(c, 'RCPT TO:<b@example.test>', '552 5.2.2')
        self.assertCmd(c, 'RCPT TO:<a@other.test>', '551 5.1.6')
        self.assertCmd(c, 'RCPT TO:<b@other.test>', '250 2.1.5')
        c.quit()

    def test_delay_goes_on_with_the_next_rule(self):
        self.serve('rcpt slow@* delay 500ms',
                   'rcpt slow@* reply 450 4.2.1 "Slow and busy"')
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        r, dt = self.timed_cmd(c, 'RCPT TO:<slow@example.test>')
        self.assertReply(r, '450 4.2.1')
        self.assertGreaterEqual(dt, DELAY_MIN)
        c.quit()

    def test_delays_add_up(self):
        self.serve('rcpt * delay 200ms', 'rcpt slow@* delay 300ms')
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        r, both = self.timed_cmd(c, 'RCPT TO:<slow@example.test>')
        self.assertReply(r, '250 2.1.5')
        r, one = self.timed_cmd(c, 'RCPT TO:<fast@example.test>')
        self.assertReply(r, '250 2.1.5')
        self.assertGreaterEqual(both, DELAY_MIN)
        self.assertGreaterEqual(one, 0.18)
        self.assertLess(one, DELAY_MIN)
        c.quit()

    def test_client_leaves_during_a_delay(self):
        self.serve('rcpt slow@* delay 500ms')
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        c.line('RCPT TO:<slow@example.test>')
        c.close()
        sess = self.session_outcome()
        self.assertEqual(sess['outcome'], 'disconnected')
        self.assertEqual([(rj['stage'], rj['outcome'])
                          for rj in sess['rejections']],
                         [('rcpt', 'abandoned')])
        # The server is fine and the pause did not leak into others.
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        r, dt = self.timed_cmd(c, 'RCPT TO:<fast@example.test>')
        self.assertReply(r, '250 2.1.5')
        self.assertLess(dt, NORMAL_MAX)
        c.quit()

    def test_times(self):
        self.serve('rcpt t@* reply 450 4.2.1 "Not yet" times 2')
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        got = [c.cmd('RCPT TO:<%s>' % a).code
               for a in ('t@example.test', 'T@EXAMPLE.test', 't@example.test',
                         't@other.test', 'u@example.test', 't@other.test',
                         't@other.test')]
        # Counted per matched value, without regard to case.
        self.assertEqual(got, [450, 450, 250, 450, 250, 450, 250])
        c.quit()

    def test_probability_0_and_1(self):
        self.serve('rcpt never@* reply 450 4.2.1 "no" probability 0',
                   'rcpt always@* reply 450 4.2.1 "yes" probability 1')
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        c.send(''.join('RCPT TO:<never@example.test>\r\n'
                       'RCPT TO:<always@example.test>\r\n'
                       for _ in range(50)))
        codes = [r.code for r in c.replies(100)]
        self.assertEqual(codes, [250, 450] * 50)
        c.quit()


# ---------------------------------------------------------------- data

class DataRuleTest(RulesCase):
    CONTENT = 'data Subject=*fail* reply 554 5.7.1 "Content rejected"'

    def test_header_glob_554(self):
        self.serve(self.CONTENT)
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.sendmail('app@sender.test', ['user@example.test'],
                           message('Please FAIL this'))
            self.assertEqual(cm.exception.smtp_code, 554)
            self.assertEqual(cm.exception.smtp_error,
                             b'5.7.1 Content rejected')
            # The transaction was reset; the next one goes through.
            self.assertEqual(s.sendmail('app@sender.test',
                                        ['user@example.test'],
                                        message('fine')), {})
        (mid,) = self.server.wait_for(1)
        self.assertEqual(self.server.show(mid)['subject'], 'fine')
        self.assertStoredCount(1)
        ((_, rj),) = self.rejections(outcome='rejected')
        self.assertEqual((rj['stage'], rj['mail_from'], rj['rcpt_to'],
                          rj['reply']),
                         ('data', 'app@sender.test', ['user@example.test'],
                          '554 5.7.1 Content rejected'))

    def test_header_name_is_case_blind(self):
        self.serve('data x-spam-flag=YES reply 554 5.7.1 "Spam"')
        c = self.connect()
        c.ehlo()
        c.cmd('MAIL FROM:<a@b.test>')
        c.cmd('RCPT TO:<c@d.test>')
        self.assertCmd(c, 'DATA', '354')
        c.send(b'X-Spam-Flag: yes\r\nSubject: s\r\n\r\nx\r\n.\r\n')
        self.assertReply(c.reply(), '554 5.7.1')
        c.quit()
        self.assertStoredCount(0)

    def test_quoted_glob_sees_unfolded_decoded_value(self):
        self.serve('data "Subject=*out of office*" reply 554 5.7.1 '
                   '"No autoreplies"')
        for subject, code in (('Re: Out of\r\n office until Monday', 554),
                              ('=?utf-8?q?Out_of_office?=', 554),
                              ('Out of the office', 250)):
            with self.subTest(subject=subject):
                c = self.connect()
                c.ehlo()
                c.cmd('MAIL FROM:<a@b.test>')
                c.cmd('RCPT TO:<c@d.test>')
                self.assertCmd(c, 'DATA', '354')
                c.send(message(subject) + b'.\r\n')
                self.assertEqual(c.reply().code, code)
                c.quit()
        self.assertStoredCount(1)

    def test_data_star_451(self):
        self.serve('data * reply 451 4.3.0 "Try again later"')
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.sendmail('app@sender.test', ['user@example.test'],
                           message('anything'))
            self.assertEqual(cm.exception.smtp_code, 451)
        self.assertStoredCount(0)

    def test_swaks_reports_data(self):
        s = self.serve(self.CONTENT)
        rc, out = self.swaks(s.port, '--from', 'app@sender.test', '--to',
                             'user@example.test', '--header',
                             'Subject: this will fail')
        self.assertEqual(rc, SWAKS_DATA_END)
        self.assertAfter(out, ' -> DATA', '<-  354')
        self.assertAfter(out, '<-  354', '<** 554 5.7.1 Content rejected')
        self.assertStoredCount(0)

    def test_disconnect(self):
        self.serve('data Subject=*drop* disconnect')
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPServerDisconnected):
                s.sendmail('app@sender.test', ['user@example.test'],
                           message('drop me'))
        self.assertStoredCount(0)
        sess = self.session_outcome()
        self.assertEqual(sess['outcome'], 'dropped')
        self.assertEqual([(rj['stage'], rj['outcome'], rj['rcpt_to'])
                          for rj in sess['rejections']],
                         [('data', 'disconnected', ['user@example.test'])])


# ------------------------------------------------------------ swaks

class SwaksStageTest(RulesCase):
    """swaks names the failing stage by its exit status and its output."""

    def test_every_stage(self):
        cases = [
            ('connect * reply 554 5.7.1 "No service"', SWAKS_BANNER,
             '=== Connected to', '<** 554 5.7.1 No service'),
            ('helo swaks.test reply 550 5.7.1 "Bad HELO"', SWAKS_HELO,
             ' -> EHLO swaks.test', '<** 550 5.7.1 Bad HELO'),
            ('mail * reply 550 5.1.8 "Bad sender"', SWAKS_MAIL,
             ' -> MAIL FROM:', '<** 550 5.1.8 Bad sender'),
            ('rcpt * reply 550 5.1.1 "User unknown"', SWAKS_RCPT,
             ' -> RCPT TO:', '<** 550 5.1.1 User unknown'),
            ('data * reply 554 5.7.1 "Spam"', SWAKS_DATA_END,
             '<-  354', '<** 554 5.7.1 Spam'),
        ]
        for rule, rc_want, first, then in cases:
            with self.subTest(rule=rule):
                s = self.serve(rule)
                rc, out = self.swaks(s.port, '--from', 'app@sender.test',
                                     '--to', 'user@example.test')
                self.assertEqual(rc, rc_want, out)
                self.assertAfter(out, first, then)
                self.assertStoredCount(0, s)


# ------------------------------------------------------- greylisting

class GreylistTest(RulesCase):
    GREY = 'rcpt * reply 451 4.7.1 "Greylisted" times 1'

    def send(self, rcpt, subject):
        with self.smtp() as s:
            return s.sendmail('app@sender.test', [rcpt], message(subject))

    def test_greylisting_end_to_end(self):
        self.serve(self.GREY)
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            self.send('user@example.test', 'first try')
        self.assertEqual(cm.exception.recipients,
                         {'user@example.test': (451, b'4.7.1 Greylisted')})
        self.assertStoredCount(0)

        # The retry is accepted and stored.
        self.assertEqual(self.send('user@example.test', 'retry'), {})
        (mid,) = self.server.wait_for(1)
        m = self.server.show(mid)
        self.assertEqual((m['subject'], m['rcpt_to']),
                         ('retry', ['user@example.test']))

        # What a test asserts on: the 451 at RCPT, with the envelope.
        ((sess, rj),) = self.rejections(outcome='rejected')
        self.assertEqual((rj['stage'], rj['mail_from'], rj['rcpt'],
                          rj['reply']),
                         ('rcpt', 'app@sender.test', 'user@example.test',
                          '451 4.7.1 Greylisted'))
        self.assertEqual(sess['messages'], [])
        (ok,) = [x for x in self.server.sessions() if x['messages']]
        self.assertEqual(ok['messages'], [mid])
        self.assertEqual([x for x in ok['rejections']
                          if x['outcome'] == 'rejected'], [])

        # Another recipient is greylisted once too; the first stays through.
        with self.assertRaises(smtplib.SMTPRecipientsRefused):
            self.send('other@example.test', 'other first')
        self.assertEqual(self.send('other@example.test', 'other retry'), {})
        self.assertEqual(self.send('user@example.test', 'third'), {})
        self.server.wait_for(3)
        self.assertEqual(sorted(m['subject'] for m in self.server.messages()),
                         ['other retry', 'retry', 'third'])
        grey = self.rejections(n=2, outcome='rejected')
        self.assertEqual(sorted(rj['rcpt'] for (_, rj) in grey),
                         ['other@example.test', 'user@example.test'])

    def test_human_listing(self):
        self.serve(self.GREY)
        with self.assertRaises(smtplib.SMTPRecipientsRefused):
            self.send('user@example.test', 'first try')
        self.rejections(outcome='rejected')
        out = text(self.server.cli_ok('sessions', '--rejected'))
        self.assertIn('  rejected at rcpt: <app@sender.test> -> '
                      '<user@example.test>: 451 4.7.1 Greylisted\n', out)


# -------------------------------------------------------- probability

class ProbabilityTest(RulesCase):
    FLAKY = 'rcpt * reply 450 4.2.1 "flaky" probability 0.3'
    N = 1000
    BATCH = 100

    def run_flaky(self, *seed_args, n=N):
        """Start a server with FLAKY, send n RCPTs pipelined in batches on
        one connection; return the list of booleans (True: 450)."""
        s = self.start(*(rule_args(self.FLAKY) + list(seed_args)))
        c = self.connect(s)
        self.assertIn('PIPELINING', c.ehlo().lines)
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        seq = []
        for b in range(0, n, self.BATCH):
            c.send(''.join('RCPT TO:<r%04d@example.test>\r\n' % i
                           for i in range(b, min(n, b + self.BATCH))))
            for r in c.replies(min(self.BATCH, n - b), timeout=20):
                self.assertIn(r.code, (250, 450), str(r))
                if r.code == 450:
                    self.assertEqual(r.text, '4.2.1 flaky')
                seq.append(r.code == 450)
        c.quit()
        return s, seq

    def test_seeded_band_and_replay(self):
        s1, seq1 = self.run_flaky('--rule-seed', '42')
        self.assertEqual(len(seq1), self.N)
        count = sum(seq1)
        self.assertTrue(250 <= count <= 350, '%d of %d RCPTs got 450'
                        % (count, self.N))
        # Every one of them was recorded.
        rj = self.rejections(s1, n=count, outcome='rejected', stage='rcpt')
        self.assertEqual(len(rj), count)

        _, seq2 = self.run_flaky('--rule-seed', '42')
        self.assertEqual(seq2, seq1, 'same seed, different sequence')
        _, seq3 = self.run_flaky('--rule-seed', '43')
        self.assertNotEqual(seq3, seq1, 'seed 43 replays seed 42')

    def test_logged_random_seed_replays(self):
        # Without rule-seed the server picks one and logs it, so a failing
        # run can be replayed.
        s1, seq1 = self.run_flaky(n=200)
        seeds = [w[5:] for w in s1.log_text().split()
                 if w.startswith('seed=')]
        self.assertEqual(len(seeds), 1, s1.log_text())
        _, seq2 = self.run_flaky('--rule-seed', seeds[0], n=200)
        self.assertEqual(seq2, seq1)


# -------------------------------------------------------------- magic

class MagicTest(RulesCase):
    def test_rcpt(self):
        self.serve()
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        r = self.assertCmd(c, 'RCPT TO:<bob+smtp550@example.test>',
                           '550 5.1.1')
        self.assertIn('mailsink magic address', r.text)
        self.assertCmd(c, 'RCPT TO:<bob+smtp451@example.test>', '451 4.3.0')
        self.assertCmd(c, 'RCPT TO:<bob+SMTP452@example.test>', '452 4.2.2')
        self.assertCmd(c, 'RCPT TO:<bob+smtp552@example.test>', '552 5.2.2')
        self.assertCmd(c, 'RCPT TO:<bob+smtp250@example.test>', '250 2.1.5')
        self.assertCmd(c, 'RCPT TO:<bob+smtp421@example.test>', '421 4.3.2')
        self.expect_closed(c)
        self.assertEqual(self.session_outcome()['outcome'], 'closed')

    def test_rcpt_smtplib(self):
        self.serve()
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                s.sendmail('app@sender.test', ['bob+smtp550@example.test'],
                           message('magic'))
        ((code, resp),) = cm.exception.recipients.values()
        self.assertEqual(code, 550)
        self.assertTrue(resp.startswith(b'5.1.1 '), resp)
        self.assertStoredCount(0)
        ((_, rj),) = self.rejections(outcome='rejected')
        self.assertEqual((rj['stage'], rj['rcpt']),
                         ('rcpt', 'bob+smtp550@example.test'))
        self.assertTrue(rj['reply'].startswith('550 5.1.1 '), rj)

    def test_mail(self):
        self.serve()
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                s.sendmail('a+smtp550@sender.test', ['user@example.test'],
                           message('magic sender'))
            self.assertEqual(cm.exception.smtp_code, 550)
            self.assertTrue(cm.exception.smtp_error.startswith(b'5.1.8 '))
        c = self.connect()
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<a+smtp451@sender.test>', '451 4.3.0')
        self.assertCmd(c, 'MAIL FROM:<a+smtp421@sender.test>', '421 4.3.2')
        self.expect_closed(c)
        self.assertStoredCount(0)

    def test_off(self):
        self.serve(args=['--magic-addresses', 'off'])
        with self.smtp() as s:
            self.assertEqual(s.sendmail('a+smtp550@sender.test',
                                        ['bob+smtp550@example.test',
                                         'bob+smtp421@example.test'],
                                        message('magic off')), {})
        (mid,) = self.server.wait_for(1)
        self.assertEqual(self.server.show(mid)['rcpt_to'],
                         ['bob+smtp550@example.test',
                          'bob+smtp421@example.test'])

    def test_rules_are_checked_first(self):
        self.serve('rcpt bob+smtp550@* reply 452 4.2.2 "Rule says full"',
                   'rcpt vip+smtp550@* accept',
                   'mail a+smtp550@* delay 10ms')
        c = self.connect()
        c.ehlo()
        # A delay is not a verdict: magic still answers after it.
        self.assertCmd(c, 'MAIL FROM:<a+smtp550@sender.test>', '550 5.1.8')
        self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        r = self.assertCmd(c, 'RCPT TO:<bob+smtp550@example.test>',
                           '452 4.2.2')
        self.assertEqual(r.text, '4.2.2 Rule says full')
        self.assertCmd(c, 'RCPT TO:<vip+smtp550@example.test>', '250 2.1.5')
        self.assertCmd(c, 'RCPT TO:<eve+smtp550@example.test>', '550 5.1.1')
        c.quit()

    def test_swaks(self):
        s = self.serve()
        rc, out = self.swaks(s.port, '--from', 'app@sender.test', '--to',
                             'bob+smtp550@example.test')
        self.assertEqual(rc, SWAKS_RCPT)
        self.assertAfter(out, ' -> RCPT TO:<bob+smtp550@example.test>',
                         '<** 550 5.1.1 ')


# -------------------------------------------------------- rule errors

# (rule, column of the fault in the rule, message after "col N: ").
MALFORMED = [
    ('rcpt * reply 250 "x"', 14, "reply code must be 4xx or 5xx '250'"),
    ('rcpt', 1, "missing match after 'rcpt'"),
    ('rcpt *', 6, "missing action after '*'"),
    ('rcpt * explode', 8, "unknown action 'explode'"),
    ('rcpt * Accept', 8, "unknown action 'Accept'"),
    ('rcpt * reply 55 "x"', 14, "bad reply code '55'"),
    ('rcpt * reply 550', 14, "missing reply text after '550'"),
    ('rcpt * reply 550 4.1.1 "x"', 18,
     'enhanced code 4.1.1 does not match reply code 550'),
    ('rcpt * reply 550 5.1 "x"', 18, "bad enhanced code '5.1'"),
    ('rcpt * reply 550 5.1.1', 18, "missing reply text after '5.1.1'"),
    ('rcpt * reply 550 unquoted', 18,
     "reply text must be double-quoted 'unquoted'"),
    ('rcpt * reply 550 ""', 18, "empty reply text '\"\"'"),
    ('rcpt * reply 550 "bad \\q escape"', 23,
     "bad escape in string '\\q'"),
    ('rcpt * delay', 8, "missing duration after 'delay'"),
    ('rcpt * delay soon', 14, "bad duration 'soon'"),
    ('rcpt * delay 11m', 14, "delay longer than 10 minutes '11m'"),
    ('rcpt * accept probability 1.5', 27,
     "probability must be from 0 to 1 '1.5'"),
    ('rcpt * accept times 0', 21, "times must be from 1 to 1000000 '0'"),
    ('rcpt * accept times', 15, "missing value after 'times'"),
    ('rcpt * accept times 1 times 2', 23, "duplicate modifier 'times'"),
    ('rcpt * reply 550 "x" extra', 22, "unknown modifier 'extra'"),
    ('connect example.com reply 554 "x"', 9,
     "connect match must be *, an address or a CIDR 'example.com'"),
    ('connect 10.0.0.0/33 reply 554 "x"', 9,
     "bad prefix length '10.0.0.0/33'"),
    ('connect 10.1.0.0/8 reply 554 "x"', 9,
     "host bits set past the prefix '10.1.0.0/8'"),
    ('data Subject reply 554 "x"', 6,
     "data match must be * or HEADER=GLOB 'Subject'"),
    ('data =x reply 554 "x"', 6, "bad header name '=x'"),
]

UNKNOWN_STAGE = ("unknown stage 'bogus' (expected connect, helo, auth, "
                 "mail, rcpt or data)")


class RuleErrorTest(RulesCase):
    def check_config(self, *args):
        r = harness.run_mailsink('check-config', *args, cwd=self.tmp)
        return r.returncode, text(r.stdout), text(r.stderr)

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix='mailsink-rules-')
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name, content):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(content)
        return path

    def test_cli_bad_code_names_the_column(self):
        rc, out, err = self.check_config('--rule', 'rcpt * reply 250 "x"')
        self.assertEqual(rc, 2)
        self.assertEqual(out, '')
        self.assertEqual(err, "mailsink: --rule: col 14: reply code must be "
                         "4xx or 5xx '250'\n")

    def test_cli_malformed(self):
        for rule, col, msg in MALFORMED:
            with self.subTest(rule=rule):
                rc, out, err = self.check_config('--rule', rule)
                self.assertEqual((rc, out), (2, ''))
                self.assertEqual(err, 'mailsink: --rule: col %d: %s\n'
                                 % (col, msg))

    def test_cli_column_counts_leading_blanks(self):
        rc, _, err = self.check_config('--rule', '  rcpt * explode')
        self.assertEqual(rc, 2)
        self.assertEqual(err, "mailsink: --rule: col 10: unknown action "
                         "'explode'\n")

    def test_file_malformed(self):
        # The rule sits on line 3 after "  rule<TAB> ", so it starts at
        # column 9 of the line.
        for rule, col, msg in MALFORMED:
            with self.subTest(rule=rule):
                path = self.write('bad.conf', '# a config\n\n  rule\t %s'
                                  '   # a comment\nrule-seed 1\n' % rule)
                rc, out, err = self.check_config('--config', path)
                self.assertEqual((rc, out), (2, ''))
                self.assertEqual(err, 'mailsink: %s:3:%d: rule: %s\n'
                                 % (path, col + 8, msg))

    def test_file_unknown_stage_and_quote(self):
        path = self.write('a.conf', 'db x.db\nrule bogus * accept\n')
        rc, _, err = self.check_config('--config', path)
        self.assertEqual(rc, 2)
        self.assertEqual(err, 'mailsink: %s:2:6: rule: %s\n'
                         % (path, UNKNOWN_STAGE))
        path = self.write('b.conf', 'rule rcpt * reply 550 "open\n')
        rc, _, err = self.check_config('--config', path)
        self.assertEqual(rc, 2)
        self.assertEqual(err, 'mailsink: %s:1:23: unterminated quoted '
                         'string\n' % path)

    def test_cli_unknown_stage_names_the_column(self):
        # Every other --rule error names its column; so must this one.
        rc, _, err = self.check_config('--rule', 'bogus * accept')
        self.assertEqual(rc, 2)
        self.assertEqual(err, 'mailsink: --rule: col 1: %s\n'
                         % UNKNOWN_STAGE)

    def test_cli_empty_rule(self):
        rc, _, err = self.check_config('--rule', '  ')
        self.assertEqual((rc, err), (2, 'mailsink: --rule: empty rule\n'))

    def test_good_rules_are_echoed(self):
        path = self.write('good.conf', 'rule rcpt *\tdelay 1s  # slow\n')
        rc, out, err = self.check_config('--config', path, '--rule',
                                         'mail * accept')
        self.assertEqual((rc, err), (0, ''))
        lines = out.splitlines()
        self.assertEqual(lines[0], '%s: ok' % path)
        self.assertEqual([x for x in lines if x.startswith('rule ')],
                         ['rule rcpt *\tdelay 1s', 'rule mail * accept'])

    def test_conf_examples_parse(self):
        # conf/mailsink.conf's commented examples, uncommented, are good.
        with open(os.path.join(harness.srcdir(), 'conf',
                               'mailsink.conf')) as f:
            lines = f.read().splitlines()
        rules = [x[1:] for x in lines if x.startswith('#rule ')]
        self.assertGreaterEqual(len(rules), 8)
        path = self.write('examples.conf', '\n'.join(
            x[1:] if x.startswith('#rule') else x for x in lines) + '\n')
        rc, out, err = self.check_config('--config', path)
        self.assertEqual((rc, err), (0, ''))
        self.assertEqual([x for x in out.splitlines()
                          if x.startswith('rule ')], rules)

    def test_readme_examples_parse(self):
        # Every `mailsink serve --rule '...'` in README.md is a good rule.
        with open(os.path.join(harness.srcdir(), 'README.md')) as f:
            readme = f.read()
        found = 0
        for line in readme.splitlines():
            if not line.startswith('mailsink serve --rule '):
                continue
            argv = shlex.split(line)[2:]
            with self.subTest(line=line):
                rc, _, err = self.check_config(*argv)
                self.assertEqual((rc, err), (0, ''))
            found += 1
        self.assertGreaterEqual(found, 8)

    def serve_fails(self, *args):
        r = harness.run_mailsink('serve', '--smtp', '127.0.0.1:0', '--http',
                                 'off', '--db',
                                 os.path.join(self.tmp, 't.db'), *args,
                                 cwd=self.tmp, timeout=20)
        self.assertEqual(r.returncode, 2, text(r.stderr))
        self.assertNotIn(b'listening:', r.stdout)
        return text(r.stderr).splitlines()[-1]

    def test_serve_refuses_bad_rule_in_file(self):
        path = self.write('serve.conf', '# rules\nrule rcpt * accept\n'
                          'rule mail * reply 550 5.1.8 Rejected\n')
        self.assertEqual(self.serve_fails('--config', path),
                         "mailsink: %s:3:29: rule: reply text must be "
                         "double-quoted 'Rejected'" % path)

    def test_serve_refuses_bad_rule_on_command_line(self):
        self.assertEqual(self.serve_fails('--rule', 'rcpt * delay forever'),
                         "mailsink: --rule: col 14: bad duration 'forever'")


# -------------------------------------------------------------- SIGHUP

class ReloadTest(RulesCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix='mailsink-reload-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.conf = os.path.join(self.tmp, 'mailsink.conf')

    def write_conf(self, *lines):
        with open(self.conf, 'w') as f:
            f.write('# written by test_rules.py\n' + ''.join(
                l + '\n' for l in lines))

    def reload(self, what='server reload rules='):
        """SIGHUP and wait for one more log line containing what; return
        that line."""
        before = self.server.log_text().count(what)
        self.server.send_signal(signal.SIGHUP)

        def done():
            lines = [l for l in self.server.log_text().splitlines()
                     if what in l]
            return lines[-1] if len(lines) > before else None
        return poll(done, timeout=5.0, what='%r in the log' % what)

    def rcpt(self, addr, client=None):
        c = client or self.connect()
        if client is None:
            c.ehlo()
            self.assertCmd(c, 'MAIL FROM:<app@sender.test>', '250')
        r = c.cmd('RCPT TO:<%s>' % addr)
        if client is None:
            c.quit()
        return r

    def test_new_rules_apply(self):
        self.write_conf('rule rcpt * reply 550 5.1.1 "first rule"')
        self.serve(args=['--config', self.conf])
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                s.sendmail('app@sender.test', ['user@example.test'],
                           message('before'))
        self.assertEqual(cm.exception.recipients['user@example.test'],
                         (550, b'5.1.1 first rule'))
        # A session open across the reload sees the new rules too.
        open_c = self.connect()
        open_c.ehlo()
        self.assertCmd(open_c, 'MAIL FROM:<app@sender.test>', '250')

        self.write_conf('rule rcpt other@* reply 551 5.1.6 "second rule"')
        line = self.reload()
        self.assertIn('rules=1 unchanged=0', line)
        self.assertReply(self.rcpt('user@example.test'), '250 2.1.5')
        r = self.rcpt('other@example.test')
        self.assertReply(r, '551 5.1.6')
        self.assertEqual(r.text, '5.1.6 second rule')
        self.assertReply(self.rcpt('other@example.test', open_c), '551 5.1.6')
        self.assertReply(self.rcpt('user@example.test', open_c), '250')
        open_c.quit()

    def test_bad_file_keeps_old_rules(self):
        self.write_conf('rule rcpt * reply 550 5.1.1 "old rule"')
        self.serve(args=['--config', self.conf])
        self.assertReply(self.rcpt('user@example.test'), '550 5.1.1')
        self.write_conf('rule rcpt * reply 451 4.7.1 "Greylisted" times 1',
                        'rule rcpt * reply 250 "not an error code"')
        line = self.reload('server reload failed')
        self.assertIn('keeping the old rules: %s:3:19: rule: reply code '
                      "must be 4xx or 5xx '250'" % self.conf, line)
        self.assertTrue(self.server.alive())
        r = self.rcpt('user@example.test')
        self.assertReply(r, '550 5.1.1')
        self.assertEqual(r.text, '5.1.1 old rule')
        # An unreadable file is refused the same way.
        os.unlink(self.conf)
        line = self.reload('server reload failed')
        self.assertIn(self.conf, line)
        self.assertReply(self.rcpt('user@example.test'), '550 5.1.1')

    def test_times_counters_survive_an_unchanged_rule(self):
        grey = 'rule rcpt * reply 451 4.7.1 "Greylisted" times 1'
        self.write_conf(grey)
        self.serve(args=['--config', self.conf])
        self.assertReply(self.rcpt('user@example.test'), '451 4.7.1')
        # Same rule (other spacing, a comment, a new rule before it).
        self.write_conf('rule mail blocked@* reply 550 5.7.1 "Blocked"',
                        'rule   rcpt  *  reply 451 4.7.1 "Greylisted"  '
                        'times 1   # unchanged')
        self.assertIn('rules=2 unchanged=1', self.reload())
        self.assertReply(self.rcpt('user@example.test'), '250 2.1.5')
        self.assertReply(self.rcpt('new@example.test'), '451 4.7.1')
        # A changed rule starts counting afresh.
        self.write_conf('rule rcpt * reply 451 4.7.1 "Greylisted again" '
                        'times 1')
        self.assertIn('rules=1 unchanged=0', self.reload())
        self.assertReply(self.rcpt('user@example.test'), '451 4.7.1')
        self.assertReply(self.rcpt('user@example.test'), '250 2.1.5')

    def test_command_line_rules_kept_and_after_file_rules(self):
        self.write_conf('rule rcpt a@* reply 551 5.1.6 "from the file"')
        self.serve('rcpt * reply 552 5.2.2 "from the command line"',
                   args=['--config', self.conf])
        self.assertReply(self.rcpt('a@example.test'), '551 5.1.6')
        self.assertReply(self.rcpt('b@example.test'), '552 5.2.2')
        self.write_conf('rule rcpt b@* reply 553 5.1.3 "new file rule"')
        self.assertIn('rules=2 unchanged=1', self.reload())
        self.assertReply(self.rcpt('a@example.test'), '552 5.2.2')
        self.assertReply(self.rcpt('b@example.test'), '553 5.1.3')

    def test_magic_addresses_reloaded(self):
        self.write_conf('magic-addresses on')
        self.serve(args=['--config', self.conf])
        self.assertReply(self.rcpt('bob+smtp550@example.test'), '550 5.1.1')
        self.write_conf('magic-addresses off')
        self.assertIn('magic-addresses=off', self.reload())
        self.assertReply(self.rcpt('bob+smtp550@example.test'), '250 2.1.5')


if __name__ == '__main__':
    harness.main()
