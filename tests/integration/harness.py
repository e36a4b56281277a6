"""harness.py - run the real mailsink binary for black-box tests.

Server starts `$MAILSINK serve` on port 0 with a store in a private temp
directory, learns its port from the "listening:" line on standard output
and stops it with SIGTERM.  Client is a raw SMTP client that reads replies
with deadlines.  ServerTestCase gives every test its own server and prints
the server's stderr log (and the raw transcripts) only when the test fails.

Nothing here sleeps for a fixed time: every wait is a read with a timeout,
`mailsink wait`, or a poll of a condition with a deadline.  Only processes
started here are ever signalled.
"""

import json
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

START_TIMEOUT = 10.0    # seconds for the "listening:" lines to appear
STOP_TIMEOUT = 10.0     # seconds between SIGTERM and SIGKILL
REPLY_TIMEOUT = 5.0     # default deadline for one SMTP reply
CLI_TIMEOUT = 30.0      # hard limit for one CLI run

LISTEN_RE = re.compile(r'^listening: (smtp|smtps|http) (\S+):(\d+)$')
REPLY_RE = re.compile(rb'^(\d{3})([ -])(.*)$', re.S)
ENH_RE = re.compile(r'^([245]\.\d{1,3}\.\d{1,3})(?: |$)')
QUEUED_RE = re.compile(r'queued as (\d+)')


def mailsink_bin():
    """Absolute path of the binary under test (env MAILSINK)."""
    path = os.environ.get('MAILSINK')
    if not path:
        raise RuntimeError('MAILSINK is not set: run the tests with '
                           '`make check` or set MAILSINK=/path/to/mailsink')
    if not os.access(path, os.X_OK):
        raise RuntimeError('MAILSINK=%s is not an executable' % path)
    return path


def srcdir():
    """Top of the source tree (env MAILSINK_SRCDIR, else guessed)."""
    d = os.environ.get('MAILSINK_SRCDIR')
    if d:
        return d
    return os.path.normpath(os.path.join(os.path.dirname(
        os.path.abspath(__file__)), '..', '..'))


def run_mailsink(*args, input=None, timeout=CLI_TIMEOUT, env=None, cwd=None):
    """Run `mailsink ARGS` and return the CompletedProcess (bytes).  Give
    cwd when a bug could make it create mailsink.db in the directory."""
    return subprocess.run([mailsink_bin()] + [str(a) for a in args],
                          input=input, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, env=env,
                          cwd=cwd)


def text(b):
    """Decode process output for assertions and messages."""
    return b.decode('utf-8', 'replace') if isinstance(b, bytes) else b


def require_tool(path, why):
    """Exit 77 (skip) with a reason if an external tool is missing."""
    if shutil.which(path) is None:
        print('SKIP: %s not found (%s)' % (path, why))
        sys.exit(77)


def sanitized_binary():
    """True if the binary under test was built with ASan (memory limits
    then mean little: shadow memory and the quarantine)."""
    try:
        with open(mailsink_bin(), 'rb') as f:
            return b'__asan_init' in f.read()
    except OSError:
        return False


def poll(cond, timeout=5.0, step=0.02, what='condition'):
    """Call cond() until it returns a true value; return that value, or
    raise AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError('timed out after %.1fs waiting for %s'
                                 % (timeout, what))
        time.sleep(step)


def dot_stuff(data):
    """Dot-stuff message octets (RFC 5321 4.5.2) for sending after DATA.
    data should end with CRLF; the result does not include ".CRLF"."""
    if data.startswith(b'.'):
        data = b'.' + data
    return data.replace(b'\r\n.', b'\r\n..')


def queued_id(reply):
    """The message id from a "250 2.0.0 Ok: queued as N" reply."""
    m = QUEUED_RE.search(reply.text_all())
    if reply.code != 250 or m is None:
        raise AssertionError('expected "250 2.0.0 Ok: queued as ID", got %r'
                             % str(reply))
    return int(m.group(1))


class ServerError(Exception):
    pass


class Server:
    """One mailsink server process with its own temp dir and store.

    Server(*extra_args, smtp=['127.0.0.1:0'], http='off', db=None,
    hostname=None) builds `mailsink serve --smtp ... --http off --db
    TMP/test.db [--hostname H] EXTRA`.  smtp=[] passes no --smtp (then
    pass listeners yourself, e.g. through a config file and expect=N)."""

    def __init__(self, *extra, smtp=('127.0.0.1:0',), http='off', db=None,
                 hostname=None, expect=None, tmpdir=None):
        self.tmpdir = tmpdir or tempfile.mkdtemp(prefix='mailsink-test-')
        self._own_tmpdir = tmpdir is None
        self.db = db or os.path.join(self.tmpdir, 'test.db')
        self.logpath = os.path.join(self.tmpdir, 'server.log')
        self.argv = [mailsink_bin(), 'serve']
        for s in smtp:
            self.argv += ['--smtp', s]
        if http is not None:
            self.argv += ['--http', http]
        self.argv += ['--db', self.db]
        if hostname is not None:
            self.argv += ['--hostname', hostname]
        self.argv += [str(a) for a in extra]
        self.expect = len(smtp) if expect is None else expect
        self.proc = None
        self.returncode = None
        self.listeners = []          # [(kind, host, port)] as printed
        self.stdout_lines = []
        self._lines = queue.Queue()
        self._logf = None

    # -- lifecycle -----------------------------------------------------

    def start(self):
        """Start the process and wait for self.expect smtp listening
        lines; raise ServerError with the log if it exits or the deadline
        passes."""
        self._logf = open(self.logpath, 'wb')
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=self._logf, cwd=self.tmpdir)
        t = threading.Thread(target=self._reader, daemon=True)
        t.start()
        deadline = time.monotonic() + START_TIMEOUT
        while len(self.smtp_ports()) < self.expect:
            left = deadline - time.monotonic()
            if left <= 0:
                self._start_failed('no "listening: smtp" line within %.0fs'
                                   % START_TIMEOUT)
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                rc = self.proc.wait(timeout=STOP_TIMEOUT)
                self.returncode = rc
                self._start_failed('server exited with status %s before '
                                   'listening' % rc)
            m = LISTEN_RE.match(line)
            if m:
                self.listeners.append((m.group(1), m.group(2),
                                       int(m.group(3))))
        return self

    def _start_failed(self, why):
        self.kill()
        raise ServerError('%s\ncommand: %s\nstdout: %r\nlog:\n%s' % (
            why, ' '.join(shlex.quote(a) for a in self.argv),
            self.stdout_lines, self.log_text()))

    def _reader(self):
        for raw in self.proc.stdout:
            line = raw.decode('utf-8', 'replace').rstrip('\r\n')
            self.stdout_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def send_signal(self, sig):
        """Send sig to this server (and nothing else)."""
        if self.alive():
            self.proc.send_signal(sig)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Wait for the process to exit; return its status or None."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Graceful stop: sig, wait up to timeout, then SIGKILL.  Returns
        the exit status (negative for a signal, 'killed' if it had to be
        killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            if self.wait_exit(timeout) is None:
                self.kill()
                self.returncode = 'killed'
        else:
            self.returncode = self.proc.returncode
        self._close_files()
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_files()

    def _close_files(self):
        if self.proc is not None and self.proc.stdout is not None:
            try:
                self.proc.stdout.close()
            except OSError:
                pass
        if self._logf is not None:
            self._logf.close()
            self._logf = None

    def cleanup(self):
        self.kill()
        if self._own_tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()
        return False

    # -- facts ---------------------------------------------------------

    def smtp_ports(self):
        return [p for (k, _, p) in self.listeners if k == 'smtp']

    @property
    def port(self):
        return self.smtp_ports()[0]

    def log_text(self):
        try:
            with open(self.logpath, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def vm_status(self, field):
        """A /proc/PID/status field in kB (VmRSS, VmHWM)."""
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
        raise KeyError(field)

    # -- the CLI on this server's store -------------------------------

    def cli(self, cmd, *args, input=None, timeout=CLI_TIMEOUT):
        """`mailsink CMD --db DB ARGS` -> CompletedProcess (bytes)."""
        return run_mailsink(cmd, '--db', self.db, *args, input=input,
                            timeout=timeout)

    def cli_ok(self, cmd, *args, **kw):
        """Like cli() but assert exit 0; return stdout as bytes."""
        r = self.cli(cmd, *args, **kw)
        if r.returncode != 0:
            raise AssertionError('mailsink %s %s: exit %d, stderr: %s' % (
                cmd, ' '.join(map(str, args)), r.returncode,
                text(r.stderr).strip()))
        return r.stdout

    def cli_json(self, cmd, *args, **kw):
        out = self.cli_ok(cmd, '--json', *args, **kw)
        try:
            return json.loads(out)
        except ValueError as e:
            raise AssertionError('mailsink %s --json: bad JSON (%s): %r'
                                 % (cmd, e, out[:500]))

    def show(self, msgid):
        """`show --json ID` as a dict."""
        return self.cli_json('show', str(msgid))

    def raw(self, msgid):
        """`show --raw ID` octets."""
        return self.cli_ok('show', '--raw', str(msgid))

    def messages(self, *query):
        """`list --json [QUERY]` as a list (all of them: the default
        --limit is small).  With no query an empty store may be reported
        by exit 1 and "[]" or nothing."""
        return self._list_json('list', '--limit', '1000000', *query)

    def sessions(self, *args):
        """`sessions --json ARGS`, all of them unless ARGS has --limit.
        None yet may be reported by exit 1 and "[]" or nothing."""
        if '--limit' not in args:
            args = ('--limit', '1000000') + tuple(args)
        return self._list_json('sessions', *args)

    def _list_json(self, cmd, *args):
        r = self.cli(cmd, '--json', *args)
        if r.returncode == 1 and r.stdout.strip() in (b'', b'[]'):
            return []
        if r.returncode != 0:
            raise AssertionError('mailsink %s --json: exit %d, stderr: %s'
                                 % (cmd, r.returncode,
                                    text(r.stderr).strip()))
        try:
            return json.loads(r.stdout)
        except ValueError as e:
            raise AssertionError('mailsink %s --json: bad JSON (%s): %r'
                                 % (cmd, e, r.stdout[:500]))

    def wait_for(self, count=1, *query, timeout=10):
        """`mailsink wait --count N --timeout T QUERY`; return the ids."""
        r = self.cli('wait', '--timeout', str(int(timeout)),
                     '--count', str(count), *query, timeout=timeout + 20)
        if r.returncode != 0:
            raise AssertionError('mailsink wait --count %d %s: exit %d, '
                                 'stderr: %s' % (count, ' '.join(query),
                                                 r.returncode,
                                                 text(r.stderr).strip()))
        ids = [int(x) for x in r.stdout.split()]
        if len(ids) < count:
            raise AssertionError('mailsink wait --count %d printed %r'
                                 % (count, r.stdout))
        return ids

    def wait_sessions_ended(self, n=None, timeout=5.0):
        """Poll `sessions --json` until every session (at least n of them)
        has an outcome; return the session list."""
        def done():
            ss = self.sessions()
            if n is not None and len(ss) < n:
                return None
            if all(session_ended(s) for s in ss):
                return ss or [None]
            return None
        ss = poll(done, timeout=timeout, step=0.05,
                  what='%s session(s) recorded as ended'
                  % ('all' if n is None else n))
        return [x for x in ss if x is not None]

    def wait_ended_sessions(self, n, timeout=5.0):
        """Poll `sessions --json` until at least n sessions have an
        outcome; return those."""
        def done():
            ended = [x for x in self.sessions() if session_ended(x)]
            return ended if len(ended) >= n else None
        return poll(done, timeout=timeout, step=0.05,
                    what='%d session(s) recorded as ended' % n)

    def connect(self, **kw):
        return Client(self.port, **kw)


def session_ended(s):
    """A session object from `sessions --json` that has been closed."""
    return bool(s.get('outcome')) and s.get('ended', True) is not None


def pick(obj, *names):
    """obj[name] for the first name obj has (JSON key names the contract
    does not fix); AssertionError listing the keys if none."""
    for n in names:
        if n in obj:
            return obj[n]
    raise AssertionError('none of %s in object with keys %s'
                         % (names, sorted(obj)))


class Reply:
    """One SMTP reply: code, enhanced code of the first line, lines."""

    def __init__(self, raw_lines):
        self.raw = b''.join(raw_lines)
        self.lines = []
        code = None
        for rl in raw_lines:
            m = REPLY_RE.match(rl.rstrip(b'\r\n'))
            code = int(m.group(1))
            self.lines.append(m.group(3).decode('utf-8', 'replace'))
        self.code = code
        m = ENH_RE.match(self.lines[0])
        self.enh = m.group(1) if m else ''
        self.text = self.lines[0]

    def text_all(self):
        return '\n'.join(self.lines)

    def matches(self, pattern):
        """pattern: alternatives separated by '|', each "CODE [ENH]",
        where CODE may be "5" or "55" (a class prefix)."""
        for alt in pattern.split('|'):
            parts = alt.split()
            code = parts[0]
            if not str(self.code).startswith(code):
                continue
            if len(parts) > 1 and self.enh != parts[1]:
                continue
            return True
        return False

    def __str__(self):
        return '\n'.join('%d%s%s' % (self.code, '-' if i < len(self.lines)
                                     - 1 else ' ', l)
                         for i, l in enumerate(self.lines))

    __repr__ = __str__


class Closed(AssertionError):
    """The server closed the connection before a complete reply."""


def send_all(sock, data, deadline):
    """sendall() that survives another thread changing the socket's
    timeout (reads set it per call): send() in a loop until deadline."""
    view = memoryview(data)
    while view:
        if time.monotonic() >= deadline:
            raise AssertionError('could not send %d bytes before the '
                                 'deadline' % len(view))
        try:
            n = sock.send(view[:1 << 20])
        except socket.timeout:
            continue
        view = view[n:]


class Sender(threading.Thread):
    """A thread sending one payload; .error holds the OSError if any."""

    def __init__(self, sock, data, timeout):
        super().__init__(daemon=True)
        self.sock, self.data = sock, data
        self.deadline = time.monotonic() + timeout
        self.error = None
        self.start()

    def run(self):
        try:
            send_all(self.sock, self.data, self.deadline)
        except (OSError, AssertionError) as e:
            self.error = e

    def join(self, timeout=None):
        super().join(timeout if timeout is not None
                     else max(0.0, self.deadline - time.monotonic()) + 1)
        return self.error


class SendQueue(threading.Thread):
    """One thread sending payloads in order on one socket, so a script's
    sends keep their order while the caller reads replies."""

    def __init__(self, sock, timeout=60.0):
        super().__init__(daemon=True)
        self.sock = sock
        self.timeout = timeout
        self.q = queue.Queue()
        self.error = None
        self.start()

    def put(self, data):
        self.q.put(data)

    def run(self):
        while True:
            data = self.q.get()
            try:
                if data is None:
                    return
                if self.error is None:
                    send_all(self.sock, data,
                             time.monotonic() + self.timeout)
            except (OSError, AssertionError) as e:
                self.error = e
            finally:
                self.q.task_done()

    def flush(self):
        """Wait until everything queued is sent; return the error if
        a send failed (the peer may have closed), else None."""
        self.q.join()
        return self.error

    def stop(self):
        self.q.put(None)
        self.join(self.timeout)


class Client:
    """A raw SMTP client: bytes out, replies in, each read with a
    deadline.  It keeps a transcript for failure reports."""

    def __init__(self, port, host='127.0.0.1', banner=True,
                 timeout=REPLY_TIMEOUT, transcript=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b''
        self.eof = False
        self.timeout = timeout
        self.transcript = transcript if transcript is not None else []
        self.banner = self.reply() if banner else None

    def _log(self, d, data):
        if len(data) > 300:
            data = data[:300] + b'...(%d bytes)' % len(data)
        self.transcript.append('%s: %r' % (d, data))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode('utf-8')
        self._log('C', data)
        self.sock.sendall(data)

    def send_background(self, data, timeout=60.0):
        """Send data from a thread while the caller reads replies (a big
        pipelined write must not deadlock against unread replies).
        Returns a Sender; call .join() to wait and see .error."""
        if isinstance(data, str):
            data = data.encode('utf-8')
        self._log('C', data)
        return Sender(self.sock, data, timeout)

    def line(self, s):
        """Send s plus CRLF without reading."""
        self.send((s.encode('utf-8') if isinstance(s, str) else s)
                  + b'\r\n')

    def cmd(self, s, timeout=None):
        """Send a command line and read one reply."""
        self.line(s)
        return self.reply(timeout)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError('no complete reply within the deadline; '
                                 'got so far: %r' % self.buf[:500])
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(262144)
        except socket.timeout:
            raise AssertionError('no complete reply within the deadline; '
                                 'got so far: %r' % self.buf[:500])
        except ConnectionResetError:
            data = b''
        if not data:
            self.eof = True
            raise Closed('connection closed by server; pending: %r'
                         % self.buf[:500])
        self.buf += data

    def reply(self, timeout=None):
        """Read one complete reply (multi-line "NNN-" ... "NNN ")."""
        deadline = time.monotonic() + (timeout or self.timeout)
        lines = []
        pos = 0
        while True:
            nl = self.buf.find(b'\n', pos)
            if nl < 0:
                if self.eof:
                    raise Closed('connection closed by server; pending: %r'
                                 % self.buf[:500])
                self._fill(deadline)
                continue
            rl = self.buf[pos:nl + 1]
            pos = nl + 1
            m = REPLY_RE.match(rl.rstrip(b'\r\n'))
            if m is None:
                raise AssertionError('not an SMTP reply line: %r' % rl[:200])
            lines.append(rl)
            if m.group(2) == b' ':
                self.buf = self.buf[pos:]
                r = Reply(lines)
                self._log('S', r.raw)
                return r

    def replies(self, n, timeout=None):
        """Read n replies, with one deadline for all of them."""
        deadline = time.monotonic() + (timeout or self.timeout)
        out = []
        for _ in range(n):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('only %d of %d replies within the '
                                     'deadline' % (len(out), n))
            out.append(self.reply(left))
        return out

    def read_until_closed(self, timeout=None):
        """Read until the server closes; return what came (and was not
        yet consumed as a reply).  AssertionError at the deadline."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.eof:
            try:
                self._fill(deadline)
            except Closed:
                break
            except AssertionError:
                raise AssertionError('server did not close the connection '
                                     'within the deadline; got %r'
                                     % self.buf[:500])
        data, self.buf = self.buf, b''
        self._log('S', data)
        return data

    def expect_closed(self, timeout=None):
        """Assert the server closes without sending another byte."""
        rest = self.read_until_closed(timeout)
        if rest:
            raise AssertionError('expected close, got %r' % rest[:500])

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- conveniences --------------------------------------------------

    def ehlo(self, name='client.test'):
        r = self.cmd('EHLO ' + name)
        if r.code != 250:
            raise AssertionError('EHLO: %s' % r)
        return r

    def transaction(self, mail_from, rcpts, data, mail_params='',
                    rcpt_params=''):
        """MAIL, RCPT..., DATA, stuffed data, ".": return the final reply.
        data is the message as it should be stored (ends with CRLF)."""
        r = self.cmd('MAIL FROM:<%s>%s' % (mail_from, (' ' + mail_params)
                                           if mail_params else ''))
        if r.code != 250:
            raise AssertionError('MAIL: %s' % r)
        for rc in rcpts:
            r = self.cmd('RCPT TO:<%s>%s' % (rc, (' ' + rcpt_params)
                                             if rcpt_params else ''))
            if r.code != 250:
                raise AssertionError('RCPT: %s' % r)
        r = self.cmd('DATA')
        if r.code != 354:
            raise AssertionError('DATA: %s' % r)
        self.send(dot_stuff(data) + b'.\r\n')
        return self.reply()

    def send_message(self, mail_from, rcpts, data, **kw):
        """transaction() that must succeed; return the queued id."""
        return queued_id(self.transaction(mail_from, rcpts, data, **kw))

    def quit(self):
        r = self.cmd('QUIT')
        self.read_until_closed()
        self.close()
        return r

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def simple_message(subject='test', body='hello', headers=()):
    """A small RFC 5322 message with CRLF line ends, as bytes."""
    lines = ['From: Sender <sender@example.test>',
             'To: Rcpt <rcpt@example.test>',
             'Subject: ' + subject,
             'Date: Mon, 1 Jan 2024 00:00:00 +0000',
             'Message-ID: <%s@example.test>' % abs(hash(subject))]
    lines += list(headers)
    lines += ['', body]
    return ('\r\n'.join(lines) + '\r\n').encode('utf-8')


class ServerTestCase(unittest.TestCase):
    """Each test gets its own server (started in setUp with
    server_args/server_kwargs unless start_server is False), stopped in
    tearDown; a server that does not exit 0 on SIGTERM fails the test
    unless the test set self.expect_unclean.  On failure the server log
    and the raw transcripts are printed."""

    server_args = ()
    server_kwargs = {}
    start_server = True
    maxDiff = 4000

    def setUp(self):
        self._bad_before = self._bad_count()
        self.servers = []
        self.clients = []
        self.notes = []
        self.expect_unclean = False
        self.server = None
        if self.start_server:
            self.server = self.start(*self.server_args,
                                     **self.server_kwargs)

    def start(self, *args, **kw):
        s = Server(*args, **kw)
        self.servers.append(s)
        s.start()
        return s

    def connect(self, server=None, **kw):
        s = server or self.server
        kw.setdefault('transcript', [])
        self.notes.append(kw['transcript'])
        c = Client(s.port, **kw)
        self.clients.append(c)
        return c

    def note(self, msg):
        self.notes.append([msg])

    def _bad_count(self):
        result = getattr(getattr(self, '_outcome', None), 'result', None)
        if result is None:
            return 0
        return len(result.failures) + len(result.errors)

    def _failed(self):
        """True if this test (or a subtest) failed so far.  Python 3.11
        reports failures to the result at once; older ones keep them in
        _outcome.errors until after tearDown."""
        outcome = getattr(self, '_outcome', None)
        if outcome is None:
            return False
        if any(exc is not None for (_, exc) in getattr(outcome, 'errors',
                                                          None) or []):
            return True
        return self._bad_count() > self._bad_before

    def tearDown(self):
        for c in self.clients:
            c.close()
        unclean = []
        for s in self.servers:
            rc = s.stop()
            if rc not in (0, None):
                unclean.append((s, rc))
        if self._failed() or (unclean and not self.expect_unclean):
            self._dump()
        for s in self.servers:
            s.cleanup()
        if unclean and not self.expect_unclean:
            self.fail('server did not exit 0 on SIGTERM: %s'
                      % ', '.join(str(rc) for (_, rc) in unclean))

    def _dump(self):
        out = sys.stderr
        out.write('\n==== %s failed ====\n' % self.id())
        for i, s in enumerate(self.servers):
            out.write('--- server %d: %s (exit %s)\n' % (
                i, ' '.join(shlex.quote(a) for a in s.argv), s.returncode))
            out.write(s.log_text())
        for t in self.notes:
            if t:
                out.write('--- transcript\n')
                out.write('\n'.join(t[-200:]) + '\n')
        out.write('==== end ====\n')
        out.flush()

    # -- assertions ----------------------------------------------------

    def assertReply(self, reply, pattern, msg=None):
        """reply matches pattern ("250 2.1.0", "5", "500|501")."""
        if not reply.matches(pattern):
            self.fail('%sexpected reply %r, got %r'
                      % ((msg + ': ') if msg else '', pattern, str(reply)))

    def assertCmd(self, client, line, pattern):
        r = client.cmd(line)
        self.assertReply(r, pattern, 'after %r' % line)
        return r

    def assertStoredCount(self, n, server=None):
        s = server or self.server
        msgs = s.messages()
        self.assertEqual(len(msgs), n, 'stored messages: %r'
                         % [(m.get('id'), m.get('subject')) for m in msgs])
        return msgs


def main():
    """Run the calling test module: exit 0 on success, 1 on failure, 77
    when every test was skipped (automake's SKIP)."""
    result = unittest.main(exit=False, buffer=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0)
