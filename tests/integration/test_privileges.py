"""test_privileges.py - `--user NAME` drops root after binding.

Issue #6 point 4: started as root, `--user NAME` becomes that user (and its
groups) after binding the ports and opening the store, before reading any
client byte, and the store stays writable by it.  Without --user, a root
server runs but warns how to drop privileges.  These tests need root and
the `nobody` user; elsewhere they skip (exit 77).
"""

import os
import pwd
import smtplib
import sys
import unittest

from harness import Server, ServerTestCase, run_mailsink, text


def proc_ids(pid, field):
    """The real, effective, saved and fs ids of pid ('Uid' or 'Gid')."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(field + ':'):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError('no %s line for pid %d' % (field, pid))


class PrivilegeTest(ServerTestCase):
    start_server = False

    def setUp(self):
        super().setUp()
        self.nobody = pwd.getpwnam('nobody')

    def test_user_drops_root_and_keeps_storing(self):
        srv = Server('--user', 'nobody')
        # nobody must be able to create the WAL files beside the store.
        os.chmod(srv.tmpdir, 0o777)
        self.servers.append(srv)
        srv.start()
        uids = proc_ids(srv.pid, 'Uid')
        gids = proc_ids(srv.pid, 'Gid')
        self.assertEqual(uids, [self.nobody.pw_uid] * 4)
        self.assertEqual(gids, [self.nobody.pw_gid] * 4)
        with smtplib.SMTP('127.0.0.1', srv.port, timeout=10) as c:
            c.sendmail('a@priv.test', ['b@priv.test'],
                       b'Subject: dropped\r\n\r\nhello\r\n')
        ids = srv.wait_for(1)
        self.assertEqual(len(ids), 1)
        st = os.stat(srv.db)
        self.assertEqual(st.st_uid, self.nobody.pw_uid)
        self.assertIn('running as user=nobody', srv.log_text())

    def test_unknown_user_is_a_start_failure(self):
        srv = Server('--user', 'no-such-user-mailsink')
        self.servers.append(srv)
        with self.assertRaises(Exception):
            srv.start()
        self.assertNotEqual(srv.returncode, 0)
        self.assertIn('no-such-user-mailsink', srv.log_text())
        self.expect_unclean = True

    def test_root_without_user_warns(self):
        srv = self.start()
        self.assertIn('--user NAME', srv.log_text())


if __name__ == '__main__':
    if os.geteuid() != 0:
        print('SKIP: --user tests need root')
        sys.exit(77)
    try:
        pwd.getpwnam('nobody')
    except KeyError:
        print('SKIP: no user nobody')
        sys.exit(77)
    result = unittest.main(exit=False, verbosity=1).result
    sys.exit(0 if result.wasSuccessful() else 1)
