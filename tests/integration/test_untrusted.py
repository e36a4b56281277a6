"""test_untrusted.py - captured mail is untrusted (issue 6, point 5).

A message can carry terminal escape sequences in its headers and body,
raw or hidden behind RFC 2047 encoded words, base64 and RFC 2231
parameters, and an SMTP client picks its envelope addresses and its AUTH
user name.  None of that may reach the terminal of the person who runs
`mailsink list`, `sessions` or `show` (default, --headers, --transcript):
ESC, BEL, the other C0 controls, DEL, C1 controls (U+0080-U+009F, such as
the 8-bit CSI U+009B) and bidi overrides must show as visible escapes.
`show --raw` and the JSON views keep the data exactly (JSON escaping C0
controls as the format requires).  No name or path taken from a message
ever reaches the file system: `export --dir` names files by id, and
`export --mbox` keeps each message one message.
"""

import base64
import json
import os
import re
import shutil
import sys
import tempfile

import harness
from harness import ServerTestCase, text

OSC_TITLE = '\x1b]0;pwned\x07'          # retitle the terminal
OSC_CLIP = '\x1b]52;c;cHduZWQ=\x07'     # write the clipboard
CLEAR = '\x1b[2J'
CSI8 = '\x9b31m'                         # 8-bit CSI as UTF-8 (C2 9B)
RLO = '\u202e'                           # right-to-left override

SUBJECT = 'Hi %s %s clear %s red \x07bell %s end' % (OSC_TITLE, CLEAR,
                                                     CSI8, RLO)
FROM_HDR = '"Evil\x1b[31m\x01\x7f" <evil@example.test>'
TO_HDR = 'Victim \x1b[8m <victim@example.test>'
BODY = 'body %s and \x1b[1;1H\x1bc and %s %s\r\n' % (OSC_TITLE, OSC_CLIP,
                                                     CSI8)

ENC_SUBJECT = 'enc %s %s' % (CLEAR, CSI8)
ENC_FROM = 'Name\x1b]0;ew\x07'
ENC_BODY = 'decoded %s here %s\r\n' % (OSC_TITLE, CSI8)
ENC_FILENAME = '\x1b]0;att\x07evil.sh'

ENV_FROM = '\x9b\u202e@x.test'           # SMTPUTF8 sender: C1 + RLO
ENV_RCPT = '\x9b31m@x.test'
AUTH_USER = '\x1b]0;user\x07\x9b'

# What must never be printed for a human: C0 controls but tab and
# newline, DEL, C1 controls, bidi embedding/override/isolate controls.
UNSAFE_RE = re.compile('[\x00-\x08\x0b-\x1f\x7f\x80-\x9f'
                       '\u202a-\u202e\u2066-\u2069]')


def visible(s):
    """The visible form the CLI promises (cli_sanitise): C0 and DEL as
    \\xNN (newline and CR as \\n, \\r), C1 and bidi controls as \\uNNNN."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif (o < 0x20 and ch != '\t') or o == 0x7f:
            out.append('\\x%02x' % o)
        elif 0x80 <= o <= 0x9f or 0x202a <= o <= 0x202e or \
                0x2066 <= o <= 0x2069:
            out.append('\\u%04x' % o)
        else:
            out.append(ch)
    return ''.join(out)


def raw_message():
    return ('From: %s\r\nTo: %s\r\nSubject: %s\r\n'
            'Message-ID: <\x1b[2J/../../x@evil.test>\r\n'
            'X-Clip: %s\r\n'
            'Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n%s'
            % (FROM_HDR, TO_HDR, SUBJECT, OSC_CLIP, BODY)).encode('utf-8')


def b64(s):
    return base64.b64encode(s.encode('utf-8')).decode('ascii')


def encoded_message():
    fn = ''.join('%%%02X' % b for b in ENC_FILENAME.encode('utf-8'))
    return ('From: =?utf-8?b?%s?= <enc@example.test>\r\n'
            'To: victim@example.test\r\n'
            'Subject: =?utf-8?b?%s?=\r\n'
            'MIME-Version: 1.0\r\n'
            'Content-Type: multipart/mixed; boundary="BOUND"\r\n\r\n'
            '--BOUND\r\n'
            'Content-Type: text/plain; charset=utf-8\r\n'
            'Content-Transfer-Encoding: base64\r\n\r\n%s\r\n'
            '--BOUND\r\n'
            'Content-Type: application/octet-stream\r\n'
            "Content-Disposition: attachment; filename*=utf-8''%s\r\n"
            'Content-Transfer-Encoding: base64\r\n\r\n%s\r\n'
            '--BOUND--\r\n'
            % (b64(ENC_FROM), b64(ENC_SUBJECT), b64(ENC_BODY), fn,
               b64(CLEAR + 'payload'))).encode('utf-8')


class TerminalTest(ServerTestCase):
    """Hostile text reaches the store through every door; the human
    views escape it, --raw and --json keep it."""

    def setUp(self):
        super().setUp()
        c = self.connect()
        # An EHLO name with controls is refused (and only the transcript,
        # escaped, keeps it).
        self.assertCmd(c, b'EHLO evil\x1b]0;helo\x07.test', '501')
        c.ehlo('ok.test')
        self.assertCmd(c, 'AUTH PLAIN ' + base64.b64encode(
            b'\0' + AUTH_USER.encode('utf-8') + b'\0pw').decode('ascii'),
            '235 2.7.0')
        self.raw1 = raw_message()
        self.id1 = c.send_message('evil@example.test', ['victim@example.test'],
                                  self.raw1)
        self.raw2 = encoded_message()
        self.id2 = c.send_message('enc@example.test', ['victim@example.test'],
                                  self.raw2)
        # Envelope addresses with C1 and bidi controls (SMTPUTF8), and a
        # rejected recipient that `sessions` reports.
        self.assertCmd(c, b'MAIL FROM:<' + ENV_FROM.encode('utf-8') +
                       b'> SMTPUTF8', '250 2.1.0')
        self.assertCmd(c, b'RCPT TO:<\xc2\x9b+smtp550@x.test>', '550')
        self.assertCmd(c, b'RCPT TO:<' + ENV_RCPT.encode('utf-8') + b'>',
                       '250 2.1.5')
        self.assertCmd(c, 'DATA', '354')
        self.raw3 = b'Subject: envelope\r\n\r\nx\r\n'
        c.send(self.raw3 + b'.\r\n')
        self.id3 = harness.queued_id(c.reply())
        c.quit()
        self.server.wait_sessions_ended(1)

    def human(self, *args):
        """Run a human-readable view; assert it prints nothing unsafe
        and return its output as text."""
        out = self.server.cli_ok(*args)
        try:
            s = out.decode('utf-8')
        except UnicodeDecodeError as e:
            self.fail('mailsink %s printed bytes that are not UTF-8 (%s): '
                      '%r' % (' '.join(args), e, out[:400]))
        m = UNSAFE_RE.search(s)
        if m:
            self.fail('mailsink %s printed U+%04X raw at offset %d: %r'
                      % (' '.join(args), ord(m.group()), m.start(),
                         s[max(0, m.start() - 60):m.start() + 60]))
        return s

    def assertShown(self, value, out, what):
        self.assertIn(visible(value), out, '%s not shown escaped' % what)

    def test_list(self):
        out = self.human('list')
        for mid in (self.id1, self.id2, self.id3):
            self.assertRegex(out, r'(?m)^\s*%d\s' % mid)
        # The table may cut a long subject; its start is there escaped.
        self.assertShown('Hi ' + OSC_TITLE, out, 'raw subject')
        self.assertShown(ENC_SUBJECT, out, 'decoded subject')
        self.assertShown(ENV_FROM, out, 'envelope sender')

    def test_sessions(self):
        for args in (('sessions',), ('sessions', '--rejected')):
            with self.subTest(args=args):
                out = self.human(*args)
                self.assertShown(AUTH_USER, out, 'AUTH user')
                self.assertShown(ENV_FROM, out, 'rejected envelope sender')
                self.assertShown('\x9b+smtp550@x.test', out,
                                 'rejected recipient')

    def test_show_summary(self):
        out = self.human('show', str(self.id1))
        for value, what in ((SUBJECT, 'Subject'), (FROM_HDR, 'From'),
                            (TO_HDR, 'To'), (AUTH_USER, 'user'),
                            (BODY.rstrip('\r\n'), 'body')):
            self.assertShown(value, out, what)
        out = self.human('show', str(self.id2))
        for value, what in ((ENC_SUBJECT, 'encoded Subject'),
                            (ENC_FROM, 'encoded From'),
                            (ENC_BODY.rstrip('\r\n'), 'base64 body'),
                            (ENC_FILENAME, 'RFC 2231 filename')):
            self.assertShown(value, out, what)
        out = self.human('show', str(self.id3))
        self.assertShown(ENV_FROM, out, 'envelope sender')
        self.assertShown(ENV_RCPT, out, 'envelope recipient')
        self.human('show', 'latest')

    def test_show_headers(self):
        out = self.human('show', '--headers', str(self.id1))
        for value, what in ((SUBJECT, 'Subject'), (FROM_HDR, 'From'),
                            (OSC_CLIP, 'X-Clip')):
            self.assertShown(value, out, what)
        out = self.human('show', '--headers', str(self.id2))
        self.assertShown(ENC_SUBJECT, out, 'encoded Subject')

    def test_show_transcript(self):
        out = self.human('show', '--transcript', str(self.id1))
        self.assertIn('EHLO evil\\x1b]0;helo\\x07.test', out)
        self.assertIn('AUTH PLAIN ***', out)
        self.assertNotIn(b64(AUTH_USER)[:8], out)

    def test_raw_is_exact(self):
        for mid, raw in ((self.id1, self.raw1), (self.id2, self.raw2),
                         (self.id3, self.raw3)):
            self.assertEqual(self.server.raw(mid), raw)

    def test_json_keeps_the_data(self):
        for args in (('show', '--json', str(self.id1)),
                     ('list', '--json', '--limit', '100'),
                     ('sessions', '--json')):
            out = self.server.cli_ok(*args)
            # JSON escapes every C0 control (RFC 8259 section 7).
            self.assertNotIn(b'\x1b', out, args)
            self.assertNotIn(b'\x07', out, args)
            json.loads(out)
        m = self.server.show(self.id1)
        self.assertEqual(m['subject'], SUBJECT)
        self.assertEqual(m['from'], FROM_HDR)
        self.assertEqual(m['user'], AUTH_USER)
        self.assertEqual(m['text'], BODY)
        self.assertIn(['X-Clip', OSC_CLIP], m['headers'])
        m = self.server.show(self.id2)
        self.assertEqual(m['subject'], ENC_SUBJECT)
        self.assertEqual(m['text'], ENC_BODY)
        self.assertEqual([a['filename'] for a in m['attachments']],
                         [ENC_FILENAME])
        m = self.server.show(self.id3)
        self.assertEqual(m['mail_from'], ENV_FROM)
        self.assertEqual(m['rcpt_to'], [ENV_RCPT])
        (sess,) = self.server.sessions()
        self.assertEqual(sess['user'], AUTH_USER)
        self.assertIn('\x9b+smtp550@x.test',
                      [r.get('rcpt') for r in sess['rejections']])


def tree(root):
    """Every path under root (relative), directories with a '/'."""
    out = set()
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        for n in dirs:
            out.add(os.path.normpath(os.path.join(rel, n)) + '/')
        for n in files:
            out.add(os.path.normpath(os.path.join(rel, n)))
    return out


class ExportTest(ServerTestCase):
    """Export writes only where the user said, under names it makes."""

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(prefix='mailsink-export-')
        self.addCleanup(shutil.rmtree, self.root, True)
        self.cwd = os.path.join(self.root, 'cwd')
        self.out = os.path.join(self.root, 'a', 'b', 'c', 'out')
        os.makedirs(self.cwd)
        os.makedirs(os.path.dirname(self.out))
        with open(os.path.join(self.root, 'a', 'keep.txt'), 'w') as f:
            f.write('must stay\n')

    def hostile(self):
        """Messages whose every name field is a path."""
        abs_target = os.path.join(self.root, 'abs-pwned')
        paths = ['../../etc/passwd', '../../../keep.txt', abs_target,
                 '..', '.', '/', 'x/../../../../pwned', 'nul\x00byte']
        c = self.connect()
        c.ehlo()
        sent = {}
        for i, p in enumerate(paths):
            fn = ''.join('%%%02X' % b for b in p.encode('utf-8'))
            msg = ('From: "%s" <a@b.test>\r\n'
                   'Subject: %s\r\n'
                   'Message-ID: <%s/%s@evil.test>\r\n'
                   'MIME-Version: 1.0\r\n'
                   'Content-Type: multipart/mixed; boundary=B\r\n\r\n'
                   '--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
                   '--B\r\nContent-Type: application/octet-stream; '
                   'name="%s"\r\n'
                   "Content-Disposition: attachment; filename*=utf-8''%s"
                   '\r\n\r\nZZZ\r\n--B--\r\n'
                   % (p.replace('\x00', ''), p.replace('\x00', '\\0'),
                      p.replace('\x00', ''), i, p.replace('\x00', ''),
                      fn)).encode('utf-8')
            sent[c.send_message('a@b.test', ['v@x.test'], msg)] = msg
        c.quit()
        return sent

    def test_export_dir_names_files_by_id(self):
        sent = self.hostile()
        before = tree(self.root)
        r = harness.run_mailsink('export', '--db', self.server.db, '--dir',
                                 self.out, cwd=self.cwd)
        self.assertEqual(r.returncode, 0, text(r.stderr))
        after = tree(self.root)
        rel = os.path.relpath(self.out, self.root)
        want = {rel + '/'} | {os.path.join(rel, '%d.eml' % i) for i in sent}
        self.assertEqual(after - before, want,
                         'export created other paths (or missed some)')
        self.assertEqual(before - after, set(), 'export removed paths')
        with open(os.path.join(self.root, 'a', 'keep.txt')) as f:
            self.assertEqual(f.read(), 'must stay\n')
        for i, msg in sent.items():
            with open(os.path.join(self.out, '%d.eml' % i), 'rb') as f:
                self.assertEqual(f.read(), msg)

    def test_export_mbox_hostile_from(self):
        c = self.connect()
        c.ehlo()
        body = ('From: "\x1b]0;mbox\x07 From x" <a@b.test>\r\n'
                'Subject: From the sender\r\n\r\n'
                'From evil@x.test Mon Jan  1 00:00:00 2024\r\n'
                '>From quoted\r\n'
                '>>From twice\r\n'
                'Subject: not a header\r\n'
                'end\r\n').encode('utf-8')
        senders = [b'<"From me x"@x.test>', b'<"\\ \\ a"@x.test>',
                   b'<' + ENV_FROM.encode('utf-8') + b'> SMTPUTF8', b'<>']
        ids = []
        for s in senders:
            self.assertCmd(c, b'MAIL FROM:' + s, '250 2.1.0')
            self.assertCmd(c, 'RCPT TO:<v@x.test>', '250 2.1.5')
            self.assertCmd(c, 'DATA', '354')
            c.send(harness.dot_stuff(body) + b'.\r\n')
            ids.append(harness.queued_id(c.reply()))
        c.quit()
        before = tree(self.root)
        mbox = os.path.join(self.root, 'out.mbox')
        r = harness.run_mailsink('export', '--db', self.server.db, '--mbox',
                                 mbox, cwd=self.cwd)
        self.assertEqual(r.returncode, 0, text(r.stderr))
        self.assertEqual(tree(self.root) - before, {'out.mbox'})
        with open(mbox, 'rb') as f:
            data = f.read()
        # Split as an mbox reader does: at every line starting "From ".
        parts = re.split(rb'(?m)^(From [^\n]*)\n', data)
        self.assertEqual(parts[0], b'', 'mbox does not start with From_')
        froms, msgs = parts[1::2], parts[2::2]
        self.assertEqual(len(froms), len(ids),
                         'a message was split (or merged): %r' % froms)
        for line in froms:
            self.assertRegex(line, rb'^From \S+ \w{3} \w{3} [ \d]\d '
                             rb'\d\d:\d\d:\d\d \d{4}$')
            self.assertIsNone(re.search(rb'[\x00-\x1f\x7f]', line), line)
        want = body.replace(b'\r\n', b'\n')
        for m in msgs:
            # mboxrd: drop one '>' from every ">...From " line, and the
            # blank line that separates messages.
            self.assertTrue(m.endswith(b'\n\n'), m[-40:])
            got = re.sub(rb'(?m)^>(>*From )', rb'\1', m[:-1])
            self.assertEqual(got, want)


if __name__ == '__main__':
    harness.main()
