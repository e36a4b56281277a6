"""test_tls_auth.py - STARTTLS, implicit TLS and SMTP AUTH with real
clients (issue 3).

openssl s_client (-starttls smtp and implicit TLS; protocol versions; the
certificate's names and fingerprint), swaks (--tls, --tls-on-connect,
--auth PLAIN/LOGIN/CRAM-MD5 against `any` and a credentials file), Python
smtplib (starttls()+login(), SMTP_SSL), curl (--ssl-reqd smtp://, smtps://),
and raw sockets for the RFC 3207 cases: the STARTTLS command-injection hole
(CVE-2011-0411), STARTTLS inside TLS, a failed handshake, QUIT over TLS.
Also: given and bad --tls-cert/--tls-key pairs, --starttls required,
--auth-required, what each stored message records (tls, user), and that
no credential reaches the log or the stored transcript.

Every test starts its own server; nothing sleeps for a fixed time.
openssl is required (without it the module is skipped with exit 77); a
missing swaks or curl skips only the tests that use it.
"""

import base64
import hashlib
import hmac
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import warnings

import harness
from harness import ServerTestCase, Server, ServerError

harness.require_tool('openssl', 'needed for the TLS tests')

TOOL_TIMEOUT = 30       # seconds for one run of an external client
PROTO_RE = re.compile(r'(?:Protocol\s*:\s*|New, )(TLSv1\.[23])\b')
USERS = {'alice': 'alice-pw', 'bob': 'Bob:with:colons', 'tim': 'tanstaaf'}


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def plain_response(user, password):
    return b64('\0%s\0%s' % (user, password))


def tls_context(maximum=None):
    """A client context that accepts the self-signed certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if maximum is not None:
        ctx.maximum_version = maximum
    return ctx


def legacy_context(version):
    """A client context that offers only an old protocol version (a
    ssl.TLSVersion name).  The
    client side's own security level must allow it, or the refusal we see
    would be the client's, not the server's."""
    ctx = tls_context()
    ctx.set_ciphers('DEFAULT:@SECLEVEL=0')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        ctx.options &= ~ssl.OP_NO_TLSv1_1
        ctx.minimum_version = getattr(ssl.TLSVersion, version)
        ctx.maximum_version = getattr(ssl.TLSVersion, version)
    return ctx


def run(argv, input=None, cwd=None):
    """Run an external client; return (exit code, stdout+stderr text)."""
    r = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=TOOL_TIMEOUT,
                       cwd=cwd)
    return r.returncode, harness.text(r.stdout)


def first_pem(text):
    m = re.search(r'-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----',
                  text, re.S)
    if m is None:
        raise AssertionError('no certificate in s_client output:\n%s'
                             % text[-3000:])
    return m.group(0) + '\n'


def x509(pem, *args):
    rc, out = run(['openssl', 'x509', '-noout'] + list(args),
                  input=pem.encode())
    if rc != 0:
        raise AssertionError('openssl x509 %s: exit %d: %s'
                             % (' '.join(args), rc, out))
    return out


def fingerprint(pem):
    out = x509(pem, '-fingerprint', '-sha256')
    return out.strip().split('=', 1)[1].upper()


def make_cert(tmpdir, name, cn):
    """A P-256 key and self-signed certificate, as the README shows."""
    key = os.path.join(tmpdir, name + '-key.pem')
    cert = os.path.join(tmpdir, name + '-cert.pem')
    rc, out = run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
                   'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=' + cn,
                   '-keyout', key, '-out', cert, '-days', '2'])
    if rc != 0:
        raise AssertionError('openssl req: %s' % out)
    return cert, key


def message(subject, body='hello'):
    return ('From: Sender <sender@example.test>\r\n'
            'To: Rcpt <rcpt@example.test>\r\n'
            'Subject: %s\r\n'
            'Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n'
            'Message-ID: <%s@example.test>\r\n'
            '\r\n%s\r\n' % (subject, subject.replace(' ', '.'), body))


class TlsAuthCase(ServerTestCase):
    """Each test starts the server it needs with serve()."""

    start_server = False

    def serve(self, *args, smtps=False, auth=None, hostname='mx.test'):
        extra = list(args)
        if smtps:
            extra += ['--smtps', '127.0.0.1:0']
        if auth is not None:
            extra += ['--auth', auth]
        s = self.start(*extra, hostname=hostname)
        if smtps:
            s.smtps_port = self.smtps_port(s)
        return s

    @staticmethod
    def smtps_port(server):
        """The smtps port from the server's "listening:" lines (the
        harness waits only for the smtp ones)."""
        def find():
            for line in list(server.stdout_lines):
                m = harness.LISTEN_RE.match(line)
                if m and m.group(1) == 'smtps':
                    return int(m.group(3))
            return None
        return harness.poll(find, timeout=harness.START_TIMEOUT,
                            what='"listening: smtps" line')

    def creds_file(self, users=USERS, extra=''):
        path = os.path.join(self.tmpdir(), 'creds.txt')
        with open(path, 'w') as f:
            f.write('# test users\n\n')
            for u, p in users.items():
                f.write('%s:%s\n' % (u, p))
            f.write(extra)
        return path

    def tmpdir(self):
        if not hasattr(self, '_tmp'):
            self._tmp = tempfile.mkdtemp(prefix='mailsink-tls-')
            self.addCleanup(shutil.rmtree, self._tmp, True)
        return self._tmp

    def starttls(self, client, name='client.test', ctx=None, strict=False):
        """EHLO, STARTTLS, handshake on the same socket; the client then
        reads and writes through TLS.  Returns the SSLSocket.  strict: a
        TCP close without a TLS close_notify raises SSLEOFError instead
        of reading as a clean end."""
        client.ehlo(name)
        r = client.cmd('STARTTLS')
        self.assertReply(r, '220 2.0.0')
        self.assertEqual(client.buf, b'', 'bytes after the 220')
        tls = (ctx or tls_context()).wrap_socket(
            client.sock, suppress_ragged_eofs=not strict)
        client.sock = tls
        return tls

    def tls_client(self, server, ctx=None, strict=False, banner=True):
        """A raw client on the smtps port (TLS from the first byte)."""
        sock = socket.create_connection(('127.0.0.1', server.smtps_port),
                                        timeout=harness.REPLY_TIMEOUT)
        tls = (ctx or tls_context()).wrap_socket(
            sock, suppress_ragged_eofs=not strict)
        c = harness.Client.__new__(harness.Client)
        c.sock, c.buf, c.eof = tls, b'', False
        c.timeout = harness.REPLY_TIMEOUT
        c.transcript = []
        self.notes.append(c.transcript)
        self.clients.append(c)
        c.banner = c.reply() if banner else None
        return c

    def by_subject(self, server, count, subject):
        """Wait for count messages; return the one with this subject."""
        server.wait_for(count)
        found = [m for m in server.messages() if m['subject'] == subject]
        self.assertEqual(len(found), 1, 'messages with subject %r: %r'
                         % (subject, found))
        return found[0]

    @staticmethod
    def hang_up(client):
        """Say QUIT and close, not insisting on the 221 (a separate test
        covers it): this is only to end the session."""
        try:
            client.line('QUIT')
        except OSError:
            pass
        client.close()

    def send_one(self, client, subject, mail_from='sender@example.test'):
        return client.send_message(mail_from, ['rcpt@example.test'],
                                   message(subject).encode())

    def assertTls(self, obj, protocols=('TLSv1.2', 'TLSv1.3')):
        tls = obj.get('tls')
        self.assertIsInstance(tls, dict, 'tls is %r' % (tls,))
        self.assertIn(tls.get('protocol'), protocols)
        self.assertTrue(tls.get('cipher'), 'no cipher in %r' % (tls,))

    def s_client(self, *args, input=b'EHLO x\nQUIT\n'):
        """openssl s_client with stdin fed and kept open until the server
        closes (-ign_eof), lines sent with CRLF (-crlf)."""
        argv = ['openssl', 's_client', '-ign_eof', '-crlf'] + list(args)
        rc, out = run(argv, input=input)
        self.note('$ %s\nexit %d\n%s' % (' '.join(argv), rc, out))
        return rc, out


# --------------------------------------------------------------- openssl

class OpensslTest(TlsAuthCase):

    def app_lines(self, out):
        """The SMTP lines s_client printed (it prints none of the dialogue
        before the handshake)."""
        return [l for l in out.splitlines() if re.match(r'^\d{3}[ -]', l)]

    def test_starttls_s_client(self):
        s = self.serve()
        rc, out = self.s_client('-starttls', 'smtp', '-connect',
                                '127.0.0.1:%d' % s.port, '-servername', 'x')
        m = PROTO_RE.search(out)
        self.assertIsNotNone(m, 'no TLSv1.2/TLSv1.3 in s_client output')
        lines = self.app_lines(out)
        self.assertIn('250-mx.test', lines)
        self.assertIn('250 AUTH PLAIN LOGIN CRAM-MD5', lines)
        # Inside TLS, EHLO no longer offers STARTTLS (RFC 3207 4.2).
        self.assertNotIn('250-STARTTLS', lines)
        self.assertNotIn('250 STARTTLS', lines)
        self.assertTrue(any(l.startswith('221 2.0.0') for l in lines),
                        'no 221 after QUIT inside TLS: %r' % lines)
        (sess,) = s.wait_sessions_ended(1)
        self.assertEqual(sess['helo'], 'x')
        self.assertTls(sess, (m.group(1),))

    def test_starttls_s_client_tls12(self):
        s = self.serve()
        rc, out = self.s_client('-tls1_2', '-starttls', 'smtp', '-connect',
                                '127.0.0.1:%d' % s.port, '-servername', 'x')
        self.assertEqual(PROTO_RE.search(out).group(1), 'TLSv1.2')
        self.assertIn('250 AUTH PLAIN LOGIN CRAM-MD5', self.app_lines(out))

    def test_tls11_refused(self):
        s = self.serve(smtps=True)
        for kind, args in (
                ('starttls', ['-starttls', 'smtp', '-connect',
                              '127.0.0.1:%d' % s.port]),
                ('smtps', ['-connect', '127.0.0.1:%d' % s.smtps_port])):
            with self.subTest(kind):
                rc, out = self.s_client('-tls1_1', '-cipher',
                                        'DEFAULT:@SECLEVEL=0', *args)
                self.assertNotEqual(rc, 0)
                self.assertIn('Cipher is (NONE)', out)
                self.assertEqual(self.app_lines(out), [])
        # Python's client, offering TLS 1.1 only, is refused by the server.
        for kind in ('starttls', 'smtps'):
            with self.subTest('python ' + kind):
                ctx = legacy_context('TLSv1_1')
                with self.assertRaises((ssl.SSLError, OSError)):
                    if kind == 'smtps':
                        self.tls_client(s, ctx=ctx)
                    else:
                        self.starttls(self.connect(s), ctx=ctx)
        # Nothing else was disturbed.
        c = self.connect(s)
        self.starttls(c)
        c.ehlo()
        self.assertIn('handshake failed', s.log_text())

    def test_implicit_tls_s_client(self):
        s = self.serve(smtps=True)
        rc, out = self.s_client('-connect', '127.0.0.1:%d' % s.smtps_port,
                                '-servername', 'x')
        self.assertIsNotNone(PROTO_RE.search(out))
        lines = self.app_lines(out)
        self.assertIn('220 mx.test ESMTP mailsink', lines)
        self.assertIn('250-mx.test', lines)
        self.assertIn('250 AUTH PLAIN LOGIN CRAM-MD5', lines)
        self.assertNotIn('250-STARTTLS', lines)
        self.assertTrue(any(l.startswith('221 2.0.0') for l in lines),
                        'no 221: %r' % lines)

    def served_pem(self, s, kind):
        if kind == 'smtps':
            args = ['-connect', '127.0.0.1:%d' % s.smtps_port]
        else:
            args = ['-starttls', 'smtp', '-connect', '127.0.0.1:%d' % s.port]
        rc, out = self.s_client('-showcerts', '-servername', 'x', *args,
                                input=b'QUIT\n')
        return first_pem(out)

    def test_self_signed_names(self):
        s = self.serve(smtps=True)
        for kind in ('starttls', 'smtps'):
            with self.subTest(kind):
                pem = self.served_pem(s, kind)
                san = x509(pem, '-ext', 'subjectAltName')
                for name in ('DNS:mx.test', 'DNS:localhost',
                             'IP Address:127.0.0.1',
                             'IP Address:0:0:0:0:0:0:0:1'):
                    self.assertIn(name, san)
                self.assertIn('CN = mx.test', x509(pem, '-subject'))
                # The SHA-256 fingerprint is logged at start.
                m = re.search(r'sha256=([0-9A-F:]{95})', s.log_text())
                self.assertIsNotNone(m, 'no sha256= in the log')
                self.assertEqual(m.group(1), fingerprint(pem))

    def test_given_cert_served(self):
        cert, key = make_cert(self.tmpdir(), 'given', 'given.test')
        with open(cert) as f:
            want = fingerprint(f.read())
        s = self.serve('--tls-cert', cert, '--tls-key', key, smtps=True)
        for kind in ('starttls', 'smtps'):
            with self.subTest(kind):
                pem = self.served_pem(s, kind)
                self.assertIn('CN = given.test', x509(pem, '-subject'))
                self.assertEqual(fingerprint(pem), want)
        self.assertIn(want, s.log_text())

    def start_fails(self, *args):
        """Start a server that must refuse to start; return its log."""
        srv = Server(*args, hostname='mx.test')
        try:
            srv.start()
        except ServerError:
            pass
        else:
            srv.stop()
            srv.cleanup()
            self.fail('server started with %r' % (args,))
        log = srv.log_text()
        rc = srv.returncode
        srv.cleanup()
        self.assertIsInstance(rc, int)
        self.assertNotEqual(rc, 0, 'exit status')
        self.assertGreater(rc, 0, 'killed by a signal: %d\n%s' % (rc, log))
        return log

    def test_bad_cert_or_key_is_a_start_error(self):
        d = self.tmpdir()
        cert1, key1 = make_cert(d, 'one', 'one.test')
        cert2, key2 = make_cert(d, 'two', 'two.test')
        garbage = os.path.join(d, 'garbage.pem')
        with open(garbage, 'w') as f:
            f.write('this is not PEM\n')
        missing = os.path.join(d, 'missing.pem')
        cases = [
            ('mismatched pair', [cert1, key2], key2),
            ('missing cert', [missing, key1], missing),
            ('missing key', [cert1, missing], missing),
            ('garbage cert', [garbage, key1], garbage),
            ('garbage key', [cert1, garbage], garbage),
            ('key as cert', [key1, key1], key1),
        ]
        for label, (c, k), name in cases:
            with self.subTest(label):
                log = self.start_fails('--tls-cert', c, '--tls-key', k)
                self.assertIn(name, log)
        with self.subTest('cert without key'):
            log = self.start_fails('--tls-cert', cert1)
            self.assertIn('tls-key', log)

    def test_bad_credentials_file_is_a_start_error(self):
        d = self.tmpdir()
        missing = os.path.join(d, 'nope.txt')
        log = self.start_fails('--auth', missing)
        self.assertIn(missing, log)
        bad = os.path.join(d, 'bad.txt')
        with open(bad, 'w') as f:
            f.write('# users\nalice:pw\nno colon here\n')
        log = self.start_fails('--auth', bad)
        self.assertIn('%s:3:' % bad, log)


# ---------------------------------------------------------------- swaks

class SwaksTest(TlsAuthCase):

    def setUp(self):
        super().setUp()
        if shutil.which('swaks') is None:
            self.skipTest('swaks not found')

    # swaks exits 6 when the server closes after QUIT without a 221.
    SWAKS_OK = 'swaks exit status (6: no 221 after QUIT)'

    def swaks(self, port, *args):
        argv = ['swaks', '--server', '127.0.0.1', '--port', str(port),
                '--helo', 'swaks.test', '--to', 'rcpt@example.test',
                '--from', 'sender@example.test', '--timeout', '20'] \
            + list(args)
        rc, out = run(argv)
        self.note('$ %s\nexit %d\n%s' % (' '.join(argv), rc, out))
        return rc, out

    def test_tls(self):
        s = self.serve()
        rc, out = self.swaks(s.port, '--tls', '--header',
                             'Subject: swaks tls')
        self.assertIn('queued as', out)
        (mid,) = s.wait_for(1, 'subject:swaks')
        m = s.show(mid)
        self.assertTls(m)
        self.assertIsNone(m['user'])
        self.assertEqual(m['helo'], 'swaks.test')
        self.assertEqual(rc, 0, self.SWAKS_OK)

    def test_tls_on_connect(self):
        s = self.serve(smtps=True)
        rc, out = self.swaks(s.smtps_port, '--tls-on-connect', '--header',
                             'Subject: swaks smtps')
        (mid,) = s.wait_for(1, 'subject:swaks')
        self.assertTls(s.show(mid))
        self.assertEqual(rc, 0, self.SWAKS_OK)

    def test_auth_any(self):
        s = self.serve(auth='any')
        rcs = {}
        for i, mech in enumerate(('PLAIN', 'LOGIN', 'CRAM-MD5')):
            with self.subTest(mech):
                user = 'user%d@example.test' % i
                rc, out = self.swaks(s.port, '--tls', '--auth', mech,
                                     '--auth-user', user,
                                     '--auth-password', 'whatever %d' % i,
                                     '--header', 'Subject: any %s' % mech)
                self.assertIn('235 2.7.0', out)
                m = self.by_subject(s, i + 1, 'any %s' % mech)
                self.assertEqual(m['user'], user)
                self.assertTls(m)
                rcs[mech] = rc
        self.assertEqual(rcs, {m: 0 for m in rcs}, self.SWAKS_OK)

    def test_auth_file(self):
        s = self.serve(auth=self.creds_file())
        n, rcs = 0, {}
        for mech in ('PLAIN', 'LOGIN', 'CRAM-MD5'):
            for user, password in sorted(USERS.items()):
                with self.subTest(mech=mech, user=user, good=True):
                    rc, out = self.swaks(
                        s.port, '--tls', '--auth', mech, '--auth-user', user,
                        '--auth-password', password, '--header',
                        'Subject: file %s %s' % (mech, user))
                    self.assertIn('235 2.7.0', out)
                    n += 1
                    m = self.by_subject(s, n, 'file %s %s' % (mech, user))
                    self.assertEqual(m['user'], user)
                    self.assertTls(m)
                    rcs[mech, user] = rc
            with self.subTest(mech=mech, good=False):
                rc, out = self.swaks(s.port, '--tls', '--auth', mech,
                                     '--auth-user', 'alice',
                                     '--auth-password', 'wrong-pw',
                                     '--header', 'Subject: bad %s' % mech)
                self.assertNotEqual(rc, 0)
                self.assertIn('535 5.7.8', out)
            with self.subTest(mech=mech, unknown_user=True):
                rc, out = self.swaks(s.port, '--tls', '--auth', mech,
                                     '--auth-user', 'mallory',
                                     '--auth-password', 'alice-pw')
                self.assertNotEqual(rc, 0)
                self.assertIn('535 5.7.8', out)
        self.assertEqual(len(s.messages()), n, 'a failed AUTH delivered')
        self.assertEqual(rcs, {k: 0 for k in rcs}, self.SWAKS_OK)


# -------------------------------------------------------------- smtplib

class SmtplibTest(TlsAuthCase):

    def smtp(self, port):
        return smtplib.SMTP('127.0.0.1', port, local_hostname='smtplib.test',
                            timeout=10)

    def test_starttls_login(self):
        s = self.serve(auth=self.creds_file())
        with self.smtp(s.port) as c:
            c.starttls(context=tls_context())
            c.login('alice', 'alice-pw')
            c.sendmail('sender@example.test', ['rcpt@example.test'],
                       message('smtplib starttls'))
        (mid,) = s.wait_for(1)
        m = s.show(mid)
        self.assertEqual(m['user'], 'alice')
        self.assertEqual(m['helo'], 'smtplib.test')
        self.assertTls(m)

    def test_each_mechanism(self):
        s = self.serve(auth=self.creds_file())
        for i, mech in enumerate(('PLAIN', 'LOGIN', 'CRAM-MD5')):
            for initial_ok in (True, False):
                with self.subTest(mech=mech, initial_response=initial_ok):
                    with self.smtp(s.port) as c:
                        c.starttls(context=tls_context())
                        c.ehlo()
                        c.user, c.password = 'bob', USERS['bob']
                        auth = getattr(c, 'auth_' + mech.lower().replace(
                            '-', '_'))
                        code, _ = c.auth(mech, auth,
                                         initial_response_ok=initial_ok)
                        self.assertEqual(code, 235)
                    with self.smtp(s.port) as c:
                        c.starttls(context=tls_context())
                        c.ehlo()
                        c.user, c.password = 'bob', 'not-bobs'
                        with self.assertRaises(
                                smtplib.SMTPAuthenticationError) as cm:
                            c.auth(mech, getattr(c, 'auth_' + mech.lower()
                                                 .replace('-', '_')),
                                   initial_response_ok=initial_ok)
                        self.assertEqual(cm.exception.smtp_code, 535)
                        self.assertIn(b'5.7.8', cm.exception.smtp_error)

    def test_smtp_ssl_login(self):
        s = self.serve(auth=self.creds_file(), smtps=True)
        with smtplib.SMTP_SSL('127.0.0.1', s.smtps_port,
                              local_hostname='smtplib.test', timeout=10,
                              context=tls_context()) as c:
            c.login('tim', 'tanstaaf')
            c.sendmail('sender@example.test', ['rcpt@example.test'],
                       message('smtplib ssl'))
        (mid,) = s.wait_for(1)
        m = s.show(mid)
        self.assertEqual(m['user'], 'tim')
        self.assertTls(m)

    def test_wrong_password(self):
        s = self.serve(auth=self.creds_file())
        with self.smtp(s.port) as c:
            c.starttls(context=tls_context())
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                c.login('alice', 'bob-pw')
            self.assertEqual(cm.exception.smtp_code, 535)


# ------------------------------------------------------------------ curl

class CurlTest(TlsAuthCase):

    def setUp(self):
        super().setUp()
        if shutil.which('curl') is None:
            self.skipTest('curl not found')

    def curl(self, url, *args):
        path = os.path.join(self.tmpdir(), 'mail.eml')
        with open(path, 'w', newline='') as f:
            f.write(message('curl tls'))
        argv = ['curl', '-sS', '--max-time', '20', url, '-k',
                '--mail-from', 'sender@example.test', '--mail-rcpt',
                'rcpt@example.test', '--upload-file', path] + list(args)
        rc, out = run(argv)
        self.note('$ %s\nexit %d\n%s' % (' '.join(argv), rc, out))
        return rc, out

    def test_ssl_reqd_smtp(self):
        s = self.serve(auth=self.creds_file())
        rc, out = self.curl('smtp://127.0.0.1:%d/curl.test' % s.port,
                            '--ssl-reqd', '--user', 'alice:alice-pw')
        self.assertEqual(rc, 0, 'curl --ssl-reqd failed: %s' % out)
        (mid,) = s.wait_for(1)
        m = s.show(mid)
        self.assertEqual(m['user'], 'alice')
        self.assertEqual(m['subject'], 'curl tls')
        self.assertTls(m)

    def test_smtps(self):
        s = self.serve(auth=self.creds_file(), smtps=True)
        rc, out = self.curl('smtps://127.0.0.1:%d/curl.test' % s.smtps_port,
                            '--user', 'bob:' + USERS['bob'])
        self.assertEqual(rc, 0, 'curl smtps:// failed: %s' % out)
        (mid,) = s.wait_for(1)
        m = s.show(mid)
        self.assertEqual(m['user'], 'bob')
        self.assertTls(m)

    def test_wrong_password(self):
        s = self.serve(auth=self.creds_file())
        rc, out = self.curl('smtp://127.0.0.1:%d/curl.test' % s.port,
                            '--ssl-reqd', '--user', 'alice:nope')
        self.assertNotEqual(rc, 0)
        self.assertEqual(s.messages(), [])


# ------------------------------------------------------ raw RFC 3207/4954

class RawTest(TlsAuthCase):

    def test_starttls_injection_discarded(self):
        """CVE-2011-0411: a command pipelined after STARTTLS in the same
        write must be discarded, never executed inside TLS."""
        s = self.serve('--transcript')
        c = self.connect(s)
        c.ehlo()
        c.send(b'STARTTLS\r\nMAIL FROM:<evil@attacker.test>\r\n')
        self.assertReply(c.reply(), '220 2.0.0')
        # Had the server answered the MAIL in the clear, the handshake
        # would fail on those bytes.
        self.assertEqual(c.buf, b'')
        c.sock = tls_context().wrap_socket(c.sock)
        c.ehlo('x')
        # No MAIL is in effect: RCPT is out of order...
        self.assertCmd(c, 'RCPT TO:<a@b.test>', '503 5.5.1')
        # ...and a MAIL now is the first, not a nested one.
        self.assertCmd(c, 'MAIL FROM:<ok@x.test>', '250 2.1.0')
        self.assertCmd(c, 'RCPT TO:<rcpt@example.test>', '250 2.1.5')
        self.assertCmd(c, 'DATA', '354')
        c.send(message('after injection').encode() + b'.\r\n')
        mid = harness.queued_id(c.reply())
        m = s.show(mid)
        self.assertEqual(m['mail_from'], 'ok@x.test')
        self.assertTls(m)
        log = s.log_text()
        self.assertNotIn('evil@attacker.test', log)
        # Exactly the injected line is counted, not STARTTLS itself.
        self.assertIn('discarded=%d' % len(b'MAIL FROM:<evil@attacker.test>'
                                           b'\r\n'), log)
        self.hang_up(c)
        s.wait_sessions_ended(1)
        t = s.cli_ok('show', '--transcript', str(mid)).decode()
        self.assertIn('ok@x.test', t)
        self.assertNotIn('evil@attacker.test', t)
        sess = [x for x in s.sessions() if mid in x.get('messages', [])]
        self.assertEqual(len(sess), 1)
        self.assertEqual(sess[0]['rejections'], [])

    def test_plain_starttls_discards_nothing(self):
        """A client that waits for the 220 has nothing discarded."""
        s = self.serve()
        c = self.connect(s)
        c.ehlo()
        self.assertCmd(c, 'STARTTLS', '220 2.0.0')
        c.sock = tls_context().wrap_socket(c.sock)
        c.ehlo('x')
        self.assertCmd(c, 'NOOP', '250 2.0.0')
        self.assertNotIn('discarded=', s.log_text())
        self.hang_up(c)

    def test_starttls_injection_whole_transaction(self):
        """The same with the injected command already framed as a full
        line before STARTTLS is answered: the whole rest is dropped."""
        s = self.serve('--transcript')
        c = self.connect(s)
        c.ehlo()
        c.send(b'STARTTLS\r\nRSET\r\nMAIL FROM:<evil@attacker.test>\r\n'
               b'RCPT TO:<victim@example.test>\r\nDATA\r\n')
        self.assertReply(c.reply(), '220 2.0.0')
        c.sock = tls_context().wrap_socket(c.sock)
        c.ehlo('x')
        self.assertCmd(c, 'DATA', '503 5.5.1')
        self.assertCmd(c, 'RCPT TO:<a@b.test>', '503 5.5.1')
        self.assertNotIn('victim@example.test', s.log_text())

    def test_session_starts_afresh_after_starttls(self):
        s = self.serve()
        c = self.connect(s)
        c.ehlo('before.test')
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '250')
        # STARTTLS in a transaction is allowed; the transaction is gone.
        self.starttls_after_mail(c)
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '503 5.5.1')
        r = c.ehlo('after.test')
        self.assertNotIn('STARTTLS', r.lines)
        self.assertIn('AUTH PLAIN LOGIN CRAM-MD5', r.lines)
        mid = self.send_one(c, 'afresh')
        m = s.show(mid)
        self.assertEqual(m['helo'], 'after.test')
        self.assertTls(m)

    def starttls_after_mail(self, c):
        r = c.cmd('STARTTLS')
        self.assertReply(r, '220 2.0.0')
        c.sock = tls_context().wrap_socket(c.sock)

    def test_starttls_inside_tls(self):
        s = self.serve(smtps=True)
        c = self.connect(s)
        self.starttls(c)
        c.ehlo()
        self.assertCmd(c, 'STARTTLS', '503 5.5.1')
        c.ehlo()
        self.send_one(c, 'still fine')
        t = self.tls_client(s)
        t.ehlo()
        self.assertCmd(t, 'STARTTLS', '503 5.5.1')
        self.send_one(t, 'smtps still fine')

    def test_quit_after_starttls(self):
        """221 must reach the client inside TLS, followed by a TLS
        close_notify (RFC 8446 6.1) rather than a bare TCP close."""
        s = self.serve()
        c = self.connect(s)
        tls = self.starttls(c, strict=True)
        c.ehlo()
        try:
            r = c.cmd('QUIT')
        except (harness.Closed, ssl.SSLEOFError) as e:
            self.fail('no 221 for QUIT inside STARTTLS: %r' % e)
        self.assertReply(r, '221 2.0.0')
        tls.settimeout(5)
        try:
            rest = tls.recv(100)
        except ssl.SSLEOFError as e:
            self.fail('no close_notify before the close: %r' % e)
        self.assertEqual(rest, b'')

    def test_pipelined_end_of_data_and_quit(self):
        """PIPELINING (RFC 2920) inside TLS: the replies to a batch that
        ends in QUIT must all be sent before the close, above all the
        "250 queued" for the message (or the client will send it again)."""
        s = self.serve(smtps=True)
        for kind in ('starttls', 'smtps'):
            with self.subTest(kind):
                if kind == 'smtps':
                    c = self.tls_client(s)
                else:
                    c = self.connect(s)
                    self.starttls(c)
                c.send(b'EHLO x\r\nMAIL FROM:<a@b.test>\r\n'
                       b'RCPT TO:<c@d.test>\r\nDATA\r\n')
                for want in ('250', '250 2.1.0', '250 2.1.5', '354'):
                    self.assertReply(c.reply(), want)
                c.send(message('pipelined ' + kind).encode() +
                       b'.\r\nQUIT\r\n')
                self.assertReply(c.reply(), '250 2.0.0')
                self.assertReply(c.reply(), '221 2.0.0')

    def test_smtps_replies_to_commands_sent_with_the_handshake(self):
        """A client that writes its commands as soon as the handshake is
        done, before it has read the greeting (openssl s_client does),
        still gets every reply: the server ran the commands, so it must
        not close before their replies are out."""
        s = self.serve(smtps=True)
        lost = []
        for i in range(20):
            c = self.tls_client(s, banner=False)
            c.send(b'EHLO x\r\nNOOP\r\nQUIT\r\n')
            try:
                got = [str(r).split('\n')[-1] for r in c.replies(4)]
            except harness.Closed:
                lost.append(i)
                continue
            self.assertEqual([g[:3] for g in got],
                             ['220', '250', '250', '221'])
        self.assertEqual(lost, [], 'attempts whose replies were lost '
                         '(of 20)')

    def test_quit_on_smtps(self):
        s = self.serve(smtps=True)
        c = self.tls_client(s, strict=True)
        c.ehlo()
        self.assertReply(c.cmd('QUIT'), '221 2.0.0')
        c.sock.settimeout(5)
        try:
            rest = c.sock.recv(100)
        except ssl.SSLEOFError as e:
            self.fail('no close_notify before the close: %r' % e)
        self.assertEqual(rest, b'')

    def test_failed_handshake_closes_only_that_session(self):
        s = self.serve(smtps=True)
        keep = self.connect(s)
        keep.ehlo()
        self.assertCmd(keep, 'MAIL FROM:<a@b.test>', '250')
        # Plain text where a ClientHello should be.
        c = self.connect(s)
        c.ehlo()
        self.assertReply(c.cmd('STARTTLS'), '220')
        c.send(b'EHLO not-tls\r\n' * 20)
        c.read_until_closed(timeout=10)
        # A client that goes away in the middle of the handshake.
        d = self.connect(s)
        d.ehlo()
        self.assertReply(d.cmd('STARTTLS'), '220')
        d.send(b'\x16\x03\x01\x00\xff\x01')
        d.close()
        raw = socket.create_connection(('127.0.0.1', s.smtps_port),
                                       timeout=5)
        raw.sendall(b'GET / HTTP/1.0\r\n\r\n')
        raw.settimeout(10)
        try:
            while raw.recv(4096):
                pass
        except ConnectionResetError:
            pass
        raw.close()
        # The open session and new ones carry on.
        self.assertCmd(keep, 'RCPT TO:<c@d.test>', '250')
        self.assertCmd(keep, 'DATA', '354')
        keep.send(message('survivor').encode() + b'.\r\n')
        harness.queued_id(keep.reply())
        e = self.connect(s)
        self.starttls(e)
        e.ehlo()
        self.send_one(e, 'after failures')
        self.assertIn('handshake failed', s.log_text())

    def test_starttls_required(self):
        s = self.serve('--starttls', 'required', smtps=True)
        c = self.connect(s)
        r = c.ehlo()
        self.assertIn('STARTTLS', r.lines)
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '530 5.7.0')
        self.starttls(c)
        c.ehlo()
        self.send_one(c, 'required ok')
        # Implicit TLS already satisfies it.
        t = self.tls_client(s)
        t.ehlo()
        self.send_one(t, 'required smtps ok')

    def test_starttls_off(self):
        s = self.serve('--starttls', 'off')
        c = self.connect(s)
        r = c.ehlo()
        self.assertNotIn('STARTTLS', r.lines)
        self.assertCmd(c, 'STARTTLS', '502 5.5.1')

    def test_auth_required(self):
        s = self.serve('--auth-required', auth=self.creds_file())
        c = self.connect(s)
        self.starttls(c)
        c.ehlo()
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '530 5.7.0')
        self.assertCmd(c, 'AUTH PLAIN ' + plain_response('alice', 'bad'),
                       '535 5.7.8')
        self.assertCmd(c, 'MAIL FROM:<a@b.test>', '530 5.7.0')
        self.assertCmd(c, 'AUTH PLAIN ' + plain_response('alice',
                                                         'alice-pw'),
                       '235 2.7.0')
        mid = self.send_one(c, 'auth required', mail_from='alice@x.test')
        self.assertEqual(s.show(mid)['user'], 'alice')

    def test_auth_exchanges(self):
        s = self.serve(auth=self.creds_file())
        c = self.connect(s)
        self.starttls(c)
        r = c.ehlo()
        self.assertIn('AUTH PLAIN LOGIN CRAM-MD5', r.lines)
        self.assertCmd(c, 'AUTH PLAIN', '334')
        self.assertCmd(c, '*', '501 5.0.0')
        self.assertCmd(c, 'AUTH LOGIN', '334')
        self.assertCmd(c, b64('alice'), '334')
        self.assertCmd(c, '*', '501 5.0.0')
        self.assertCmd(c, 'AUTH PLAIN %%%%', '501 5.5.2')
        self.assertCmd(c, 'AUTH GSSAPI', '504 5.5.4')
        # CRAM-MD5: a fresh challenge each time, checked by HMAC-MD5.
        chals = []
        for password, want in (('wrong', '535 5.7.8'),
                               ('tanstaaf', '235 2.7.0')):
            r = c.cmd('AUTH CRAM-MD5')
            self.assertReply(r, '334')
            chal = base64.b64decode(r.text, validate=True)
            self.assertRegex(chal.decode(), r'^<\d+\.\d+@mx\.test>$')
            chals.append(chal)
            digest = hmac.new(password.encode(), chal, hashlib.md5)
            self.assertCmd(c, b64('tim ' + digest.hexdigest()), want)
        self.assertNotEqual(chals[0], chals[1])
        self.assertCmd(c, 'AUTH PLAIN ' + plain_response('bob', 'x'),
                       '503 5.5.1')
        self.assertCmd(c, 'MAIL FROM:<tim@x.test> AUTH=<>', '250')
        self.assertCmd(c, 'AUTH LOGIN', '503 5.5.1')

    def test_starttls_forgets_plaintext_auth(self):
        """RFC 3207 4.2: knowledge from before the handshake is dropped,
        and an AUTH done in the clear is such knowledge."""
        s = self.serve(auth='any')
        c = self.connect(s)
        c.ehlo()
        self.assertCmd(c, 'AUTH PLAIN ' + plain_response('clear', 'pw'),
                       '235 2.7.0')
        self.starttls_after_mail(c)
        r = c.ehlo()
        self.assertIn('AUTH PLAIN LOGIN CRAM-MD5', r.lines)
        mid = self.send_one(c, 'no user')
        self.assertIsNone(s.show(mid)['user'])

    def test_stored_tls_and_user(self):
        s = self.serve(auth='any', smtps=True)
        plain = self.connect(s)
        plain.ehlo()
        m0 = s.show(self.send_one(plain, 'plain'))
        self.assertIsNone(m0['tls'])
        self.assertIsNone(m0['user'])

        c = self.connect(s)
        self.starttls(c, ctx=tls_context(ssl.TLSVersion.TLSv1_2))
        c.ehlo()
        self.assertCmd(c, 'AUTH PLAIN ' + plain_response('carol', 'pw'),
                       '235')
        m1 = s.show(self.send_one(c, 'starttls 1.2'))
        self.assertEqual(m1['tls']['protocol'], 'TLSv1.2')
        self.assertEqual(m1['tls']['cipher'], c.sock.cipher()[0])
        self.assertEqual(m1['user'], 'carol')

        t = self.tls_client(s)
        t.ehlo()
        m2 = s.show(self.send_one(t, 'smtps'))
        self.assertEqual(m2['tls']['protocol'], t.sock.version())
        self.assertEqual(m2['tls']['cipher'], t.sock.cipher()[0])
        self.assertIsNone(m2['user'])

        listed = {m['subject']: m for m in s.messages()}
        self.assertIsNone(listed['plain']['tls'])
        self.assertEqual(listed['starttls 1.2']['tls']['protocol'], 'TLSv1.2')
        self.assertEqual(listed['starttls 1.2']['user'], 'carol')
        for x in (plain, c, t):
            self.hang_up(x)
        byid = {x['messages'][0]: x for x in s.wait_sessions_ended(3)
                if x.get('messages')}
        self.assertIsNone(byid[m0['id']]['tls'])
        self.assertEqual(byid[m1['id']]['user'], 'carol')
        self.assertEqual(byid[m1['id']]['tls']['protocol'], 'TLSv1.2')
        self.assertTls(byid[m2['id']])


# ------------------------------------------------ credentials never logged

SECRET = 'Qx7-Zebra-Quokka-9931'


class RedactionTest(TlsAuthCase):
    """Not even --transcript shows a credential: "AUTH PLAIN ***"."""

    def sessions_with_every_mechanism(self, s):
        """One session per exchange, each delivering a message; returns
        (message ids, the base64 strings the client sent)."""
        sent, ids = [], []

        def run_one(subject, steps):
            c = self.connect(s)
            self.starttls(c)
            c.ehlo()
            for line, want in steps:
                if not line.startswith('AUTH'):
                    sent.append(line)
                else:
                    sent.extend(line.split()[2:])
                self.assertCmd(c, line, want)
            ids.append(self.send_one(c, subject))
            self.hang_up(c)

        run_one('plain initial', [
            ('AUTH PLAIN ' + plain_response('alice', SECRET), '235')])
        run_one('plain continued', [
            ('AUTH PLAIN', '334'),
            (plain_response('alice', SECRET), '235')])
        run_one('login', [
            ('AUTH LOGIN', '334'), (b64('alice'), '334'),
            (b64(SECRET), '235')])
        run_one('login initial', [
            ('AUTH LOGIN ' + b64('alice'), '334'), (b64(SECRET), '235')])
        c = self.connect(s)
        self.starttls(c)
        c.ehlo()
        r = c.cmd('AUTH CRAM-MD5')
        self.assertReply(r, '334')
        digest = hmac.new(SECRET.encode(), base64.b64decode(r.text),
                          hashlib.md5).hexdigest()
        sent.append(b64('alice ' + digest))
        sent.append(digest)
        self.assertCmd(c, sent[-2], '235')
        ids.append(self.send_one(c, 'cram'))
        self.hang_up(c)
        return ids, sent

    def assertNoSecret(self, text, sent, where):
        self.assertNotIn(SECRET, text, 'password in %s' % where)
        for x in sent + [b64(SECRET), plain_response('alice', SECRET)]:
            self.assertNotIn(x, text, '%r in %s' % (x, where))

    def test_not_in_log(self):
        s = self.serve('--transcript', '--log-level', 'debug', auth='any')
        ids, sent = self.sessions_with_every_mechanism(s)
        s.wait_sessions_ended(len(ids))
        s.stop()
        log = s.log_text()
        self.assertIn('AUTH PLAIN ***', log)
        self.assertIn('AUTH LOGIN ***', log)
        self.assertIn('AUTH CRAM-MD5', log)
        self.assertNoSecret(log, sent, 'the log')

    def test_not_in_stored_transcript(self):
        s = self.serve('--transcript', auth=self.creds_file(
            {'alice': SECRET}))
        ids, sent = self.sessions_with_every_mechanism(s)
        s.wait_sessions_ended(len(ids))
        texts = []
        for mid in ids:
            r = s.cli('show', '--transcript', str(mid))
            self.assertEqual(r.returncode, 0, 'show --transcript %d: %s'
                             % (mid, harness.text(r.stderr)))
            texts.append(harness.text(r.stdout))
        joined = '\n'.join(texts)
        self.assertIn('AUTH PLAIN ***', joined)
        self.assertIn('235 2.7.0', joined)
        self.assertNoSecret(joined, sent, 'the stored transcript')


if __name__ == '__main__':
    harness.main()
