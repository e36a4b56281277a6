/*
 * test_store.c - the SQLite store and the spool that feeds it.
 *
 * Runs against ":memory:" and against a file in a fresh temporary
 * directory per test.  Where the store's API does not show a column
 * (recipients' NOTIFY, leftover bodies after a delete), the test opens
 * the file with SQLite directly and looks.  The reader tests open a
 * second, read-only connection while the writer is still open, as the
 * CLI does while the server runs.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "compat.h"
#include "envelope.h"
#include "mime.h"
#include "query.h"
#include "spool.h"
#include "store.h"
#include "store_schema.h"
#include "xmalloc.h"

struct t_dir {
	char	dir[256];	/* temporary directory */
	char	path[300];	/* dir/store.db */
};

/* A fresh temporary directory for one test. */
static int
t_setup(void **state)
{
	struct t_dir	*t;
	const char	*tmp;

	t = calloc(1, sizeof *t);
	if (t == NULL)
		return (-1);
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(t->dir, sizeof t->dir, "%s/test_store.XXXXXX", tmp);
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return (-1);
	}
	snprintf(t->path, sizeof t->path, "%s/store.db", t->dir);
	*state = t;
	return (0);
}

/* Remove the directory and whatever the test left in it. */
static int
t_teardown(void **state)
{
	struct t_dir	*t = *state;
	struct dirent	*de;
	DIR		*d;
	char		 p[600];

	if ((d = opendir(t->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof p, "%s/%s", t->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(t->dir);
	free(t);
	return (0);
}

/* Open a store, failing the test with the cause if it does not open. */
static struct store *
t_open(const char *path, int flags)
{
	struct store	*st;
	char		*cause = NULL;

	st = store_open(path, flags, &cause);
	if (st == NULL)
		fail_msg("store_open %s: %s", path, cause);
	return (st);
}

/* Expect store_open to fail with a cause containing want. */
static void
t_open_fails(const char *path, int flags, const char *want)
{
	struct store	*st;
	char		*cause = NULL;

	st = store_open(path, flags, &cause);
	if (st != NULL)
		fail_msg("store_open %s: opened, want error \"%s\"", path,
		    want);
	if (cause == NULL || strstr(cause, want) == NULL)
		fail_msg("store_open %s: got \"%s\", want \"%s\"", path,
		    cause != NULL ? cause : "(null)", want);
	free(cause);
}

/* Run sql on the file directly, as an older or newer mailsink would. */
static void
t_exec(const char *path, const char *sql)
{
	sqlite3	*db;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* One integer from a query run on the file directly. */
static long long
t_scalar(const char *path, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*stmt;
	long long	 v;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		fail_msg("sqlite3_open %s: %s", path, sqlite3_errmsg(db));
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return (v);
}

/* One text value from a query run on the file directly (static buffer). */
static const char *
t_text(const char *path, const char *sql)
{
	static char	 buf[1024];
	sqlite3		*db;
	sqlite3_stmt	*stmt;
	const char	*s;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		fail_msg("sqlite3_open %s: %s", path, sqlite3_errmsg(db));
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	s = (const char *)sqlite3_column_text(stmt, 0);
	snprintf(buf, sizeof buf, "%s", s != NULL ? s : "(null)");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return (buf);
}

/* Fill env with a sender and n recipients (notify/orcpt for the first). */
static void
t_env(struct envelope *env, const char *from, const char *const *rcpts,
    size_t n)
{
	struct smtp_mail_args	m;
	struct smtp_rcpt_args	r;
	size_t			i;

	envelope_init(env);
	memset(&m, 0, sizeof m);
	strlcpy(m.addr, from, sizeof m.addr);
	m.has_size = 1;
	m.size = 123;
	m.body = SMTP_BODY_8BITMIME;
	envelope_set_mail(env, &m);
	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof r);
		strlcpy(r.addr, rcpts[i], sizeof r.addr);
		if (i == 0) {
			r.notify = SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE;
			strlcpy(r.orcpt, "rfc822;orig@x.test", sizeof r.orcpt);
		}
		envelope_add_rcpt(env, &r);
	}
}

/* A spool holding len bytes of data, written in pieces of step bytes. */
static struct spool *
t_spool(const char *data, size_t len, size_t step)
{
	struct spool	*sp;
	char		*cause = NULL;
	size_t		 off, n;

	sp = spool_new();
	spool_reset(sp, 0);
	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		if (spool_write(sp, data + off, n, &cause) == -1)
			fail_msg("spool_write: %s", cause);
	}
	return (sp);
}

/* Store a message from data with one or more recipients; its id. */
static int64_t
t_put(struct store *st, int64_t sess, const char *from, const char *rcpt,
    const char *data)
{
	static const struct store_peer peer = { "127.0.0.1", "client.test",
	    NULL, NULL, NULL };
	const char		*rcpts[1] = { rcpt };
	struct envelope		 env;
	struct mime_headers	 hdrs;
	struct spool		*sp;
	char			*cause = NULL;
	int64_t			 id = 0;

	t_env(&env, from, rcpts, 1);
	sp = t_spool(data, strlen(data), 4096);
	mime_headers_parse(data, strlen(data), &hdrs);
	if (store_message_put(st, sess, &peer, &env, &hdrs, sp, NULL, &id,
	    &cause) == -1)
		fail_msg("store_message_put: %s", cause);
	mime_headers_clear(&hdrs);
	spool_free(sp);
	envelope_clear(&env);
	return (id);
}

/* Compare two possibly-NULL strings, printing both on a mismatch. */
static void
t_streq(const char *label, const char *got, const char *want)
{
	if (got == NULL && want == NULL)
		return;
	if (got == NULL || want == NULL || strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", label,
		    got != NULL ? got : "(null)",
		    want != NULL ? want : "(null)");
}

/* ------------------------------------------------------------ spool */

/* Read the whole spool back, in pieces of step bytes. */
static char *
t_spool_read(struct spool *sp, size_t step)
{
	char		*buf, *cause = NULL;
	uint64_t	 kept = spool_kept(sp), off;
	ssize_t		 n;

	buf = malloc(kept + 1);
	assert_non_null(buf);
	for (off = 0; off < kept; off += (uint64_t)n) {
		n = spool_read(sp, off, buf + off, step, &cause);
		if (n <= 0)
			fail_msg("spool_read at %llu: %zd %s",
			    (unsigned long long)off, n, cause);
	}
	assert_int_equal(spool_read(sp, kept, buf, step, &cause), 0);
	return (buf);
}

static void
test_spool_sizes(void **state)
{
	static const struct {
		const char	*label;
		size_t		 len;		/* bytes written */
		size_t		 step;		/* write size */
		uint64_t	 cap;		/* 0: none */
		int		 spilled;	/* want spool_mem() NULL */
	} cases[] = {
		{ "empty", 0, 1, 0, 0 },
		{ "small", 100, 7, 0, 0 },
		{ "past the own part", SPOOL_MEM_MAX + 1, 1000, 0, 0 },
		{ "exactly in memory", SPOOL_MEM_BIG, 1000, 0, 0 },
		{ "one past memory", SPOOL_MEM_BIG + 1, 1000, 0, 1 },
		{ "one past, 1-byte writes", SPOOL_MEM_BIG + 1, 1, 0, 1 },
		{ "one big write", 300000, 300000, 0, 0 },
		{ "odd steps", 1000003, 65537, 0, 0 },
		{ "odd steps, spilled", 3000017, 65537, 0, 1 },
		{ "cap in memory", 5000, 64, 1000, 0 },
		{ "cap in borrowed memory", 400000, 4096, 200000, 0 },
		{ "cap after spill", 3000000, 4096, 2500000, 1 },
		{ "cap exact", 1000, 10, 1000, 0 },
	};
	struct spool	*sp;
	char		*data, *back;
	const char	*mem;
	size_t		 i, j, memlen, want_kept;

	(void)state;
	data = malloc(3100000);
	assert_non_null(data);
	for (j = 0; j < 3100000; j++)
		data[j] = (char)(j * 131 + j / 256);
	sp = spool_new();
	/* One spool for every case: spool_reset() must leave no trace. */
	for (i = 0; i < MS_NITEMS(cases); i++) {
		char	*cause = NULL;
		size_t	 off, n;

		spool_reset(sp, cases[i].cap);
		for (off = 0; off < cases[i].len; off += n) {
			n = cases[i].len - off < cases[i].step ?
			    cases[i].len - off : cases[i].step;
			if (spool_write(sp, data + off, n, &cause) == -1)
				fail_msg("%s: write: %s", cases[i].label,
				    cause);
		}
		want_kept = cases[i].cap != 0 && cases[i].cap < cases[i].len ?
		    cases[i].cap : cases[i].len;
		if (spool_size(sp) != cases[i].len ||
		    spool_kept(sp) != want_kept)
			fail_msg("%s: size %llu kept %llu, want %zu %zu",
			    cases[i].label,
			    (unsigned long long)spool_size(sp),
			    (unsigned long long)spool_kept(sp),
			    cases[i].len, want_kept);
		if (spool_oversize(sp) != (want_kept < cases[i].len))
			fail_msg("%s: oversize %d", cases[i].label,
			    spool_oversize(sp));
		mem = spool_mem(sp, &memlen);
		if ((mem == NULL) != cases[i].spilled)
			fail_msg("%s: spool_mem %p, want spilled %d",
			    cases[i].label, (const void *)mem,
			    cases[i].spilled);
		if (mem != NULL && (memlen != want_kept ||
		    memcmp(mem, data, memlen) != 0))
			fail_msg("%s: memory bytes differ", cases[i].label);
		back = t_spool_read(sp, 10007);
		if (memcmp(back, data, want_kept) != 0)
			fail_msg("%s: bytes read back differ", cases[i].label);
		free(back);
		/* Reads may come in any size, also 1 byte at a time. */
		if (want_kept < 200000) {
			back = t_spool_read(sp, 1);
			if (memcmp(back, data, want_kept) != 0)
				fail_msg("%s: 1-byte reads differ",
				    cases[i].label);
			free(back);
		}
	}
	spool_free(sp);
	spool_free(NULL);
	free(data);
}

static void
test_spool_reset_after_spill(void **state)
{
	struct spool	*sp;
	char		*big, *cause = NULL;
	const char	*mem;
	size_t		 len, bigsz = SPOOL_MEM_BIG + 10;

	(void)state;
	big = xmalloc(bigsz);
	memset(big, 'x', bigsz);
	sp = spool_new();
	spool_reset(sp, 0);
	assert_int_equal(spool_write(sp, big, bigsz, &cause), 0);
	assert_null(spool_mem(sp, &len));
	/* The next message starts in memory again. */
	spool_reset(sp, 0);
	assert_int_equal(spool_size(sp), 0);
	assert_int_equal(spool_write(sp, "abc", 3, &cause), 0);
	mem = spool_mem(sp, &len);
	assert_non_null(mem);
	assert_int_equal(len, 3);
	assert_memory_equal(mem, "abc", 3);
	/* And spills again into the same file, from offset 0. */
	assert_int_equal(spool_write(sp, big, bigsz, &cause), 0);
	assert_null(spool_mem(sp, &len));
	{
		char	*back = t_spool_read(sp, 4096);

		assert_memory_equal(back, "abc", 3);
		assert_memory_equal(back + 3, big, bigsz);
		free(back);
	}
	assert_int_equal(spool_kept(sp), bigsz + 3);
	spool_free(sp);
	free(big);
}

/*
 * Spools borrow memory past SPOOL_MEM_MAX from one shared budget: as many
 * as it allows hold SPOOL_MEM_BIG in memory, the next one spills, and
 * what a spool gives back can be borrowed again.
 */
static void
test_spool_budget(void **state)
{
	struct spool	*sp[SPOOL_MEM_BUDGET / (SPOOL_MEM_BIG - SPOOL_MEM_MAX)];
	struct spool	*extra;
	char		*big, *back;
	size_t		 i, n = MS_NITEMS(sp), len;

	(void)state;
	big = xmalloc(SPOOL_MEM_BIG);
	for (i = 0; i < SPOOL_MEM_BIG; i++)
		big[i] = (char)(i * 7);
	for (i = 0; i < n; i++) {
		sp[i] = t_spool(big, SPOOL_MEM_BIG, 65536);
		if (spool_mem(sp[i], &len) == NULL)
			fail_msg("spool %zu of %zu spilled", i + 1, n);
	}
	extra = t_spool(big, SPOOL_MEM_BIG, 65536);
	assert_null(spool_mem(extra, &len));
	back = t_spool_read(extra, 65536);
	assert_memory_equal(back, big, SPOOL_MEM_BIG);
	free(back);
	spool_free(extra);

	/* One gives its memory back: the next message fits again. */
	spool_free(sp[0]);
	sp[0] = t_spool(big, SPOOL_MEM_BIG, 65536);
	assert_non_null(spool_mem(sp[0], &len));
	assert_int_equal(len, SPOOL_MEM_BIG);
	/* A reset gives it back too. */
	spool_reset(sp[1], 0);
	extra = t_spool(big, SPOOL_MEM_BIG, 4096);
	assert_non_null(spool_mem(extra, &len));
	spool_free(extra);
	for (i = 0; i < n; i++)
		spool_free(sp[i]);
	free(big);
}

static void
test_spool_tmpdir_fails(void **state)
{
	struct spool	*sp;
	char		*big, *cause = NULL, *old;
	const char	*env;

	(void)state;
	env = getenv("TMPDIR");
	old = env != NULL ? strdup(env) : NULL;
	setenv("TMPDIR", "/nonexistent/mailsink-test", 1);
	big = xmalloc(SPOOL_MEM_BIG + 1);
	memset(big, 'y', SPOOL_MEM_BIG + 1);
	sp = spool_new();
	spool_reset(sp, 0);
	assert_int_equal(spool_write(sp, big, SPOOL_MEM_BIG + 1, &cause), -1);
	free(big);
	assert_non_null(cause);
	if (strstr(cause, "/nonexistent/mailsink-test") == NULL)
		fail_msg("cause \"%s\" does not name the directory", cause);
	free(cause);
	cause = NULL;
	/* Sticky until reset; a NULL cause is allowed. */
	assert_int_equal(spool_write(sp, "z", 1, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(spool_write(sp, "z", 1, NULL), -1);
	spool_reset(sp, 0);
	assert_int_equal(spool_write(sp, "z", 1, &cause), 0);
	spool_free(sp);
	if (old != NULL) {
		setenv("TMPDIR", old, 1);
		free(old);
	} else
		unsetenv("TMPDIR");
}

/* ------------------------------------------------------------ open */

static void
test_open_memory(void **state)
{
	struct store	*st;
	uint64_t	 count = 99;
	int64_t		 id;
	char		*cause = NULL;

	(void)state;
	st = t_open(":memory:", 0);
	t_streq("path", store_path(st), ":memory:");
	assert_int_equal(store_msg_count(st, NULL, &count, &cause), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_msg_latest(st, &id, &cause), 1);
	store_close(st);
	store_close(NULL);
}

static void
test_open_migrates(void **state)
{
	struct t_dir	*t = *state;
	struct store	*st;

	st = t_open(t->path, 0);
	store_close(st);
	assert_int_equal(t_scalar(t->path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	t_streq("journal", t_text(t->path, "PRAGMA journal_mode"), "wal");
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM "
	    "sqlite_master WHERE type = 'table' AND name IN ('sessions', "
	    "'messages', 'bodies', 'recipients', 'rejections', 'search')"),
	    6);
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM "
	    "sqlite_master WHERE type = 'index' AND name IN "
	    "('messages_session', 'messages_received', 'recipients_addr', "
	    "'rejections_session')"), 4);
}

static void
test_open_reopen(void **state)
{
	struct t_dir		*t = *state;
	struct store		*st;
	struct store_msg	*m;
	int64_t			 id;
	char			*cause = NULL;

	st = t_open(t->path, 0);
	id = t_put(st, 0, "a@x.test", "b@y.test", "Subject: kept\r\n\r\nx\r\n");
	store_close(st);

	st = t_open(t->path, 0);
	assert_int_equal(store_msg_get(st, id, &m, &cause), 0);
	t_streq("subject", m->subject, "kept");
	store_msg_free(m);
	store_close(st);
	assert_int_equal(t_scalar(t->path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
}

/*
 * A version 1 store (before the search index) is migrated on open, and
 * the messages it already holds become searchable.
 */
static void
test_open_migrates_v1(void **state)
{
	struct t_dir	*t = *state;
	struct store	*st;
	struct query	*q;
	struct store_msg **a;
	size_t		 n;
	int64_t		 id;
	char		*cause = NULL, term[] = "to:old@y.test";
	char		*terms[] = { term };

	st = t_open(t->path, 0);
	id = t_put(st, 0, "a@x.test", "old@y.test",
	    "Subject: before\r\n\r\nancient words\r\n");
	store_close(st);
	/* Turn it back into a version 1 file, as an older mailsink left it. */
	t_exec(t->path, "DROP TABLE search; DROP TABLE indexed; "
	    "PRAGMA user_version = 1");

	st = t_open(t->path, 0);
	assert_int_equal(t_scalar(t->path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	q = query_parse(1, terms, &cause);
	assert_non_null(q);
	assert_int_equal(store_msg_list(st, q, 0, 0, &a, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0]->id, id);
	store_msgs_free(a, n);
	query_free(q);
	store_close(st);
}

/* Write a database with the given user_version by hand. */
static void
t_make_version(const char *path, int version)
{
	char	 sql[64];

	snprintf(sql, sizeof sql, "CREATE TABLE future (x); "
	    "PRAGMA user_version = %d", version);
	t_exec(path, sql);
}

static void
test_open_newer_refused(void **state)
{
	struct t_dir	*t = *state;
	char		 want[400];

	t_make_version(t->path, 99);
	snprintf(want, sizeof want, "%s: schema version 99 is newer than "
	    "this mailsink (%d)", t->path, STORE_SCHEMA_VERSION);
	t_open_fails(t->path, 0, want);
	t_open_fails(t->path, STORE_READONLY, want);
	/* Refused means untouched: no WAL switch, version as it was. */
	t_streq("journal", t_text(t->path, "PRAGMA journal_mode"), "delete");
	assert_int_equal(t_scalar(t->path, "PRAGMA user_version"), 99);
}

static void
test_open_not_database(void **state)
{
	static const char *const texts[] = {
		"hello\n",
		"From: someone\nSubject: this is a mail, not a database, and "
		"it is long enough to cover the whole SQLite header area of "
		"one hundred bytes.\n\nbody\n",
	};
	struct t_dir	*t = *state;
	char		 want[400];
	size_t		 i;
	int		 fd;

	for (i = 0; i < MS_NITEMS(texts); i++) {
		fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_true(fd != -1);
		assert_int_equal(write(fd, texts[i], strlen(texts[i])),
		    (ssize_t)strlen(texts[i]));
		close(fd);
		snprintf(want, sizeof want, "%s: not a mailsink store (file "
		    "is not a database)", t->path);
		t_open_fails(t->path, 0, want);
		t_open_fails(t->path, STORE_READONLY, want);
	}
}

static void
test_open_missing(void **state)
{
	struct t_dir	*t = *state;
	struct stat	 sb;
	char		 want[400];

	snprintf(want, sizeof want, "%s: no such store", t->path);
	t_open_fails(t->path, STORE_READONLY, want);
	t_open_fails(t->path, STORE_NOCREATE, want);
	assert_int_equal(stat(t->path, &sb), -1);
}

/* ------------------------------------------------------------ messages */

static void
test_put_memory_spool(void **state)
{
	static const char data[] =
	    "From: =?UTF-8?B?SsO2cmc=?= <j@x.test>\r\n"
	    "To: b@y.test, c@y.test\r\n"
	    "Cc: d@y.test\r\n"
	    "Date: Mon, 23 Nov 2026 16:41:28 +0000\r\n"
	    "Message-ID: <m1@x.test>\r\n"
	    "Subject: caf=?ISO-8859-1?Q?=E9?=\r\n"
	    "\r\n"
	    "body\r\n";
	static const struct store_peer peer = { "192.0.2.7", "mx.test",
	    "TLSv1.3", "TLS_AES_256_GCM_SHA384", "alice" };
	const char *const	 rcpts[] = { "z@y.test", "a@y.test",
				    "m@y.test" };
	struct store		*st = *state;
	struct store_msg	*m;
	struct envelope		 env;
	struct mime_headers	 hdrs;
	struct spool		*sp;
	size_t			 len, i;
	int64_t			 id = 0, sess;
	char			*cause = NULL, *raw;

	assert_int_equal(store_session_begin(st, "192.0.2.7", NULL, &sess,
	    &cause), 0);
	t_env(&env, "j@x.test", rcpts, MS_NITEMS(rcpts));
	sp = t_spool(data, sizeof data - 1, 5);
	assert_non_null(spool_mem(sp, &len));
	mime_headers_parse(data, sizeof data - 1, &hdrs);
	if (store_message_put(st, sess, &peer, &env, &hdrs, sp, NULL, &id,
	    &cause) == -1)
		fail_msg("put: %s", cause);
	assert_true(id > 0);

	assert_int_equal(store_msg_raw(st, id, &raw, &len, &cause), 0);
	assert_int_equal(len, sizeof data - 1);
	assert_memory_equal(raw, data, len);
	free(raw);

	assert_int_equal(store_msg_get(st, id, &m, &cause), 0);
	assert_int_equal(m->id, id);
	assert_int_equal(m->session_id, sess);
	t_streq("client", m->client, "192.0.2.7");
	t_streq("helo", m->helo, "mx.test");
	t_streq("tls_protocol", m->tls_protocol, "TLSv1.3");
	t_streq("tls_cipher", m->tls_cipher, "TLS_AES_256_GCM_SHA384");
	t_streq("user", m->user, "alice");
	t_streq("mail_from", m->mail_from, "j@x.test");
	assert_int_equal(m->size, sizeof data - 1);
	t_streq("subject", m->subject, "café");
	t_streq("from", m->from, "Jörg <j@x.test>");
	t_streq("to", m->to, "b@y.test, c@y.test");
	t_streq("cc", m->cc, "d@y.test");
	t_streq("date", m->date, "Mon, 23 Nov 2026 16:41:28 +0000");
	t_streq("message_id", m->message_id, "m1@x.test");
	t_streq("params", m->params, "{\"size\":123,\"body\":\"8BITMIME\","
	    "\"rcpt\":[{\"notify\":[\"SUCCESS\",\"FAILURE\"],"
	    "\"orcpt\":\"rfc822;orig@x.test\"},null,null]}");
	/* Recipients in RCPT order, not sorted. */
	assert_int_equal(m->nrcpt, MS_NITEMS(rcpts));
	for (i = 0; i < MS_NITEMS(rcpts); i++)
		t_streq("rcpt", m->rcpt_to[i], rcpts[i]);
	/* "2026-11-23T16:41:28.123Z" */
	assert_int_equal(strlen(m->received), 24);
	assert_true(m->received[10] == 'T' && m->received[19] == '.' &&
	    m->received[23] == 'Z');
	store_msg_free(m);

	assert_int_equal(store_msg_get(st, id + 1, &m, &cause), 1);
	assert_null(m);
	assert_int_equal(store_msg_raw(st, id + 1, &raw, &len, &cause), 1);

	mime_headers_clear(&hdrs);
	spool_free(sp);
	envelope_clear(&env);
}

static void
test_put_spilled_spool(void **state)
{
	struct t_dir		*t = *state;
	struct store		*st;
	struct store_msg	*m;
	struct envelope		 env;
	struct spool		*sp;
	const char *const	 rcpts[] = { "big@y.test" };
	size_t			 len, i, sizes[] = { SPOOL_MEM_BIG + 1,
				    3 * 1024 * 1024 + 17 };
	size_t			 k;
	int64_t			 id;
	char			*data, *raw, *cause = NULL;

	st = t_open(t->path, 0);
	t_env(&env, "", rcpts, 1);
	for (k = 0; k < MS_NITEMS(sizes); k++) {
		data = malloc(sizes[k]);
		assert_non_null(data);
		memcpy(data, "Subject: big\r\n\r\n", 16);
		/* Every byte value, NUL included, in the body. */
		for (i = 16; i < sizes[k]; i++)
			data[i] = (char)(i % 251);
		sp = t_spool(data, sizes[k], 8191);
		assert_null(spool_mem(sp, &len));
		if (store_message_put(st, 0, NULL, &env, NULL, sp, NULL, &id,
		    &cause) == -1)
			fail_msg("put %zu: %s", sizes[k], cause);
		assert_int_equal(store_msg_raw(st, id, &raw, &len, &cause), 0);
		if (len != sizes[k] || memcmp(raw, data, len) != 0)
			fail_msg("%zu bytes: read back %zu, differ", sizes[k],
			    len);
		free(raw);
		assert_int_equal(store_msg_get(st, id, &m, &cause), 0);
		assert_int_equal(m->size, sizes[k]);
		t_streq("null sender", m->mail_from, "");
		assert_int_equal(m->session_id, 0);
		assert_null(m->subject);	/* hdrs was NULL */
		t_streq("client", m->client, "");
		store_msg_free(m);
		spool_free(sp);
		free(data);
	}
	envelope_clear(&env);
	store_close(st);
}

static void
test_put_empty_message(void **state)
{
	struct store	*st = *state;
	struct envelope	 env;
	struct spool	*sp;
	const char *const rcpts[] = { "b@y.test" };
	size_t		 len;
	int64_t		 id;
	char		*raw, *cause = NULL;

	t_env(&env, "a@x.test", rcpts, 1);
	sp = spool_new();
	spool_reset(sp, 0);
	if (store_message_put(st, 0, NULL, &env, NULL, sp, NULL, &id,
	    &cause) == -1)
		fail_msg("put: %s", cause);
	assert_int_equal(store_msg_raw(st, id, &raw, &len, &cause), 0);
	assert_int_equal(len, 0);
	assert_string_equal(raw, "");
	free(raw);
	spool_free(sp);
	envelope_clear(&env);
}

static void
test_put_oversize_refused(void **state)
{
	struct store	*st = *state;
	struct envelope	 env;
	struct spool	*sp;
	const char *const rcpts[] = { "b@y.test" };
	uint64_t	 count;
	int64_t		 id = 0;
	char		*cause = NULL;

	t_env(&env, "a@x.test", rcpts, 1);
	sp = spool_new();
	spool_reset(sp, 10);
	assert_int_equal(spool_write(sp, "0123456789abc", 13, &cause), 0);
	assert_int_equal(store_message_put(st, 0, NULL, &env, NULL, sp, NULL,
	    &id, &cause), -1);
	assert_non_null(cause);
	free(cause);
	assert_int_equal(store_msg_count(st, NULL, &count, &cause), 0);
	assert_int_equal(count, 0);
	spool_free(sp);
	envelope_clear(&env);
}

/* A failure half way (a recipient the schema refuses) stores nothing. */
static void
test_put_failure_rolls_back(void **state)
{
	struct t_dir	*t = *state;
	struct store	*st;
	struct envelope	 env;
	struct spool	*sp;
	const char *const rcpts[] = { "ok@y.test", "bad@y.test" };
	char		*data, *saved, *cause = NULL;
	size_t		 size = 200000;
	uint64_t	 count;
	int64_t		 id = 0, latest;

	st = t_open(t->path, 0);
	t_env(&env, "a@x.test", rcpts, 2);
	saved = env.rcpts[1].addr;
	env.rcpts[1].addr = NULL;	/* NOT NULL constraint fails */
	data = calloc(1, size);
	assert_non_null(data);
	sp = t_spool(data, size, size);
	assert_int_equal(store_message_put(st, 0, NULL, &env, NULL, sp, NULL,
	    &id, &cause), -1);
	if (cause == NULL || strstr(cause, "insert recipient") == NULL)
		fail_msg("cause \"%s\"", cause);
	free(cause);
	cause = NULL;
	env.rcpts[1].addr = saved;

	assert_int_equal(store_msg_count(st, NULL, &count, &cause), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_msg_latest(st, &latest, &cause), 1);
	/* The store still works afterwards. */
	id = t_put(st, 0, "a@x.test", "b@y.test", "Subject: after\r\n\r\n");
	assert_true(id > 0);
	store_close(st);
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM bodies"), 1);
	assert_int_equal(t_scalar(t->path,
	    "SELECT count(*) FROM recipients"), 1);
	spool_free(sp);
	free(data);
	envelope_clear(&env);
}

static void
test_recipients_columns(void **state)
{
	struct t_dir	*t = *state;
	struct store	*st;
	struct envelope	 env;
	struct smtp_rcpt_args r;
	struct spool	*sp;
	const char *const rcpts[] = { "First@Y.test", "second@y.test" };
	int64_t		 id;
	char		*cause = NULL, sql[200];

	st = t_open(t->path, 0);
	t_env(&env, "a@x.test", rcpts, MS_NITEMS(rcpts));
	memset(&r, 0, sizeof r);
	strlcpy(r.addr, "third@y.test", sizeof r.addr);
	r.notify = SMTP_NOTIFY_NEVER;
	envelope_add_rcpt(&env, &r);
	sp = t_spool("x\r\n", 3, 3);
	assert_int_equal(store_message_put(st, 0, NULL, &env, NULL, sp, NULL,
	    &id, &cause), 0);
	store_close(st);

	snprintf(sql, sizeof sql, "SELECT group_concat(addr || '|' || "
	    "ifnull(notify, '-') || '|' || ifnull(orcpt, '-'), ' ') FROM "
	    "(SELECT * FROM recipients WHERE message_id = %lld ORDER BY pos)",
	    (long long)id);
	t_streq("recipients", t_text(t->path, sql),
	    "First@Y.test|SUCCESS,FAILURE|rfc822;orig@x.test "
	    "second@y.test|-|- third@y.test|NEVER|-");
	/* addr is COLLATE NOCASE, for to: searches. */
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM recipients "
	    "WHERE addr = 'first@y.test'"), 1);
	spool_free(sp);
	envelope_clear(&env);
}

/* Put n messages "Subject: sN" from sN@x.test to rN@y.test; ids in ids. */
static void
t_put_n(struct store *st, int64_t *ids, size_t n)
{
	char	 from[32], rcpt[32], data[64];
	size_t	 i;

	for (i = 0; i < n; i++) {
		snprintf(from, sizeof from, "s%zu@x.test", i);
		snprintf(rcpt, sizeof rcpt, "r%zu@y.test", i);
		snprintf(data, sizeof data, "Subject: s%zu\r\n\r\nbody %zu\r\n",
		    i, i);
		ids[i] = t_put(st, 0, from, rcpt, data);
	}
}

static void
test_list(void **state)
{
	static const struct {
		const char	*label;
		size_t		 limit, offset;
		size_t		 want[5];	/* indexes into ids */
		size_t		 nwant;
	} cases[] = {
		{ "all", 0, 0, { 4, 3, 2, 1, 0 }, 5 },
		{ "limit 2", 2, 0, { 4, 3 }, 2 },
		{ "limit 2 offset 2", 2, 2, { 2, 1 }, 2 },
		{ "offset 4", 0, 4, { 0 }, 1 },
		{ "offset past end", 3, 5, { 0 }, 0 },
		{ "limit past end", 10, 3, { 1, 0 }, 2 },
	};
	struct store		*st = *state;
	struct store_msg	**a;
	size_t			  n, i, j;
	uint64_t		  count;
	int64_t			  ids[5], latest;
	char			 *cause = NULL, want[32];

	t_put_n(st, ids, 5);
	for (i = 0; i < MS_NITEMS(cases); i++) {
		if (store_msg_list(st, NULL, cases[i].limit, cases[i].offset,
		    &a, &n, &cause) == -1)
			fail_msg("%s: %s", cases[i].label, cause);
		if (n != cases[i].nwant)
			fail_msg("%s: got %zu messages, want %zu",
			    cases[i].label, n, cases[i].nwant);
		for (j = 0; j < n; j++) {
			if (a[j]->id != ids[cases[i].want[j]])
				fail_msg("%s: [%zu] got id %lld, want %lld",
				    cases[i].label, j, (long long)a[j]->id,
				    (long long)ids[cases[i].want[j]]);
			snprintf(want, sizeof want, "r%zu@y.test",
			    cases[i].want[j]);
			assert_int_equal(a[j]->nrcpt, 1);
			t_streq(cases[i].label, a[j]->rcpt_to[0], want);
		}
		store_msgs_free(a, n);
	}
	assert_int_equal(store_msg_count(st, NULL, &count, &cause), 0);
	assert_int_equal(count, 5);
	assert_int_equal(store_msg_latest(st, &latest, &cause), 0);
	assert_int_equal(latest, ids[4]);
}

static void
test_list_many_recipients(void **state)
{
	struct store		*st = *state;
	struct store_msg	**a;
	struct envelope		 env;
	struct spool		*sp;
	const char *const	 r3[] = { "c@y.test", "a@y.test", "b@y.test" };
	const char *const	 r0[] = { NULL };
	size_t			 n;
	int64_t			 id1, id2, id3;
	char			*cause = NULL;

	sp = t_spool("x", 1, 1);
	t_env(&env, "a@x.test", r3, 3);
	assert_int_equal(store_message_put(st, 0, NULL, &env, NULL, sp, NULL,
	    &id1, &cause), 0);
	envelope_clear(&env);
	/* No recipients at all (possible only by hand): the join keeps it. */
	t_env(&env, "b@x.test", r0, 0);
	assert_int_equal(store_message_put(st, 0, NULL, &env, NULL, sp, NULL,
	    &id2, &cause), 0);
	envelope_clear(&env);
	t_env(&env, "c@x.test", r3, 2);
	assert_int_equal(store_message_put(st, 0, NULL, &env, NULL, sp, NULL,
	    &id3, &cause), 0);
	envelope_clear(&env);

	/* A limit counts messages, not recipient rows. */
	assert_int_equal(store_msg_list(st, NULL, 2, 0, &a, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_int_equal(a[0]->id, id3);
	assert_int_equal(a[0]->nrcpt, 2);
	t_streq("rcpt", a[0]->rcpt_to[1], "a@y.test");
	assert_int_equal(a[1]->id, id2);
	assert_int_equal(a[1]->nrcpt, 0);
	store_msgs_free(a, n);
	assert_int_equal(store_msg_list(st, NULL, 0, 2, &a, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0]->id, id1);
	assert_int_equal(a[0]->nrcpt, 3);
	t_streq("rcpt 0", a[0]->rcpt_to[0], "c@y.test");
	t_streq("rcpt 1", a[0]->rcpt_to[1], "a@y.test");
	t_streq("rcpt 2", a[0]->rcpt_to[2], "b@y.test");
	store_msgs_free(a, n);
	spool_free(sp);
}

static void
test_list_query(void **state)
{
	static const struct {
		const char	*label;
		const char	*terms[3];
		size_t		 want[5];	/* indexes into ids */
		size_t		 nwant;
	} cases[] = {
		{ "empty query", { NULL }, { 4, 3, 2, 1, 0 }, 5 },
		{ "from", { "from:s3@x", NULL }, { 3 }, 1 },
		{ "to", { "to:R1@Y.TEST", NULL }, { 1 }, 1 },
		{ "subject", { "subject:s2", NULL }, { 2 }, 1 },
		{ "body word", { "body 4", NULL }, { 4 }, 1 },
		{ "all terms", { "from:s0", "to:r0", NULL }, { 0 }, 1 },
		{ "no match", { "from:s0", "to:r1", NULL }, { 0 }, 0 },
		{ "prefix s*", { "subject:s*", NULL }, { 4, 3, 2, 1, 0 }, 5 },
		{ "whole words only", { "subject:s", NULL }, { 0 }, 0 },
	};
	struct store		*st = *state;
	struct store_msg	**a;
	struct query		*q;
	size_t			  n, i, j, argc;
	uint64_t		  count;
	int64_t			  ids[5];
	char			 *cause = NULL;

	t_put_n(st, ids, 5);
	for (i = 0; i < MS_NITEMS(cases); i++) {
		for (argc = 0; cases[i].terms[argc] != NULL; argc++)
			;
		q = query_parse((int)argc, (char *const *)cases[i].terms,
		    &cause);
		if (q == NULL)
			fail_msg("%s: query_parse: %s", cases[i].label, cause);
		if (store_msg_list(st, q, 0, 0, &a, &n, &cause) == -1)
			fail_msg("%s: %s", cases[i].label, cause);
		if (n != cases[i].nwant)
			fail_msg("%s: got %zu messages, want %zu",
			    cases[i].label, n, cases[i].nwant);
		for (j = 0; j < n; j++) {
			if (a[j]->id != ids[cases[i].want[j]])
				fail_msg("%s: [%zu] got id %lld, want %lld",
				    cases[i].label, j, (long long)a[j]->id,
				    (long long)ids[cases[i].want[j]]);
		}
		store_msgs_free(a, n);
		if (store_msg_count(st, q, &count, &cause) == -1)
			fail_msg("%s: count: %s", cases[i].label, cause);
		if (count != cases[i].nwant)
			fail_msg("%s: count %llu, want %zu", cases[i].label,
			    (unsigned long long)count, cases[i].nwant);
		/* With a limit and offset after the search binds. */
		if (cases[i].nwant >= 2) {
			assert_int_equal(store_msg_list(st, q, 1, 1, &a, &n,
			    &cause), 0);
			assert_int_equal(n, 1);
			assert_int_equal(a[0]->id, ids[cases[i].want[1]]);
			store_msgs_free(a, n);
		}
		query_free(q);
	}
}

static void
test_delete(void **state)
{
	struct t_dir	*t = *state;
	struct store	*st;
	struct store_msg *m;
	int64_t		 ids[3], id;
	size_t		 len;
	uint64_t	 count;
	char		*cause = NULL, *raw;

	st = t_open(t->path, 0);
	t_put_n(st, ids, 3);
	assert_int_equal(store_msg_delete(st, ids[1], &cause), 0);
	assert_int_equal(store_msg_delete(st, ids[1], &cause), 1);
	assert_int_equal(store_msg_get(st, ids[1], &m, &cause), 1);
	assert_int_equal(store_msg_raw(st, ids[1], &raw, &len, &cause), 1);
	assert_int_equal(store_msg_get(st, ids[0], &m, &cause), 0);
	store_msg_free(m);
	assert_int_equal(store_msg_count(st, NULL, &count, &cause), 0);
	assert_int_equal(count, 2);
	/* Deleting the newest does not make its id come back. */
	assert_int_equal(store_msg_delete(st, ids[2], &cause), 0);
	id = t_put(st, 0, "n@x.test", "n@y.test", "Subject: new\r\n\r\n");
	assert_true(id > ids[2]);
	store_close(st);
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM bodies"), 2);
	assert_int_equal(t_scalar(t->path,
	    "SELECT count(*) FROM recipients"), 2);
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM bodies "
	    "WHERE message_id NOT IN (SELECT id FROM messages)"), 0);
}

static void
test_delete_all(void **state)
{
	struct t_dir		*t = *state;
	struct store		*st;
	struct store_msg	**a;
	size_t			  n;
	uint64_t		  count;
	int64_t			  ids[4], id, latest;
	char			 *cause = NULL;

	st = t_open(t->path, 0);
	t_put_n(st, ids, 4);
	assert_int_equal(store_msg_delete_all(st, &count, &cause), 0);
	assert_int_equal(count, 4);
	assert_int_equal(store_msg_list(st, NULL, 0, 0, &a, &n, &cause), 0);
	assert_int_equal(n, 0);
	assert_null(a);
	assert_int_equal(store_msg_latest(st, &latest, &cause), 1);
	assert_int_equal(store_msg_delete_all(st, &count, &cause), 0);
	assert_int_equal(count, 0);
	id = t_put(st, 0, "n@x.test", "n@y.test", "Subject: new\r\n\r\n");
	assert_true(id > ids[3]);
	store_close(st);
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM bodies"), 1);
	assert_int_equal(t_scalar(t->path,
	    "SELECT count(*) FROM recipients"), 1);
}

static void
test_prune(void **state)
{
	struct t_dir		*t = *state;
	struct store		*st;
	struct store_msg	**a;
	size_t			  n;
	uint64_t		  count;
	int64_t			  ids[6];
	char			 *cause = NULL;

	st = t_open(t->path, 0);
	t_put_n(st, ids, 6);
	assert_int_equal(store_prune(st, 0, &cause), 0);	/* keep all */
	assert_int_equal(store_prune(st, 6, &cause), 0);	/* nothing */
	assert_int_equal(store_prune(st, 100, &cause), 0);
	assert_int_equal(store_msg_count(st, NULL, &count, &cause), 0);
	assert_int_equal(count, 6);
	assert_int_equal(store_prune(st, 2, &cause), 0);
	assert_int_equal(store_msg_list(st, NULL, 0, 0, &a, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_int_equal(a[0]->id, ids[5]);
	assert_int_equal(a[1]->id, ids[4]);
	store_msgs_free(a, n);
	/* A gap in the ids (a deleted message) does not confuse it. */
	assert_int_equal(store_msg_delete(st, ids[5], &cause), 0);
	assert_int_equal(store_prune(st, 1, &cause), 0);
	assert_int_equal(store_msg_list(st, NULL, 0, 0, &a, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0]->id, ids[4]);
	store_msgs_free(a, n);
	store_close(st);
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM bodies"), 1);
	assert_int_equal(t_scalar(t->path,
	    "SELECT count(*) FROM recipients"), 1);
}

/* ------------------------------------------------------------ sessions */

static void
test_sessions(void **state)
{
	static const struct store_peer peer = { "10.0.0.1", "mx.test",
	    "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "bob" };
	const char *const	 accepted[] = { "ok@y.test", "ok2@y.test" };
	struct store		*st = *state;
	struct store_sess	**a;
	struct store_reject	 *r;
	struct envelope		  env;
	size_t			  n;
	int64_t			  s1, s2, s3, id;
	char			 *cause = NULL, *text;

	assert_int_equal(store_session_begin(st, "10.0.0.1", NULL, &s1,
	    &cause), 0);
	assert_int_equal(store_session_begin(st, "10.0.0.2", NULL, &s2,
	    &cause), 0);
	assert_int_equal(store_session_begin(st, "10.0.0.3", NULL, &s3,
	    &cause), 0);
	assert_true(s1 < s2 && s2 < s3);

	id = t_put(st, s1, "a@x.test", "b@y.test", "Subject: one\r\n\r\n");
	assert_int_equal(store_session_end(st, s1, &peer, "quit",
	    "bare-lf,no-brackets", "C: EHLO mx.test\nS: 250 ok\n", &cause), 0);

	t_env(&env, "a@x.test", accepted, 2);
	assert_int_equal(store_reject_put(st, s2, "rcpt", "rejected", &env,
	    "no@y.test", "550 5.1.1 No such user", &cause), 0);
	envelope_clear(&env);
	envelope_init(&env);	/* no MAIL yet */
	assert_int_equal(store_reject_put(st, s2, "helo", "disconnected",
	    &env, NULL, NULL, &cause), 0);
	assert_int_equal(store_reject_put(st, s3, "connect", "rejected", NULL,
	    NULL, "554 5.7.1 Go away", &cause), 0);

	assert_int_equal(store_session_end(st, 12345, &peer, "quit", NULL,
	    NULL, &cause), -1);
	free(cause);
	cause = NULL;

	assert_int_equal(store_sess_list(st, 0, 0, &a, &n, &cause), 0);
	assert_int_equal(n, 3);
	assert_int_equal(a[0]->id, s3);
	assert_int_equal(a[1]->id, s2);
	assert_int_equal(a[2]->id, s1);
	/* Session 1: ended, with its peer, quirks and one message. */
	t_streq("client", a[2]->client, "10.0.0.1");
	t_streq("helo", a[2]->helo, "mx.test");
	t_streq("tls", a[2]->tls_protocol, "TLSv1.2");
	t_streq("cipher", a[2]->tls_cipher, "ECDHE-RSA-AES128-GCM-SHA256");
	t_streq("user", a[2]->user, "bob");
	t_streq("outcome", a[2]->outcome, "quit");
	t_streq("quirks", a[2]->quirks, "bare-lf,no-brackets");
	assert_non_null(a[2]->ended);
	assert_non_null(a[2]->started);
	assert_int_equal(a[2]->nmessages, 1);
	assert_int_equal(a[2]->messages[0], id);
	assert_int_equal(a[2]->nrejects, 0);
	/* Session 2: still open, two rejections in order. */
	assert_null(a[1]->ended);
	assert_null(a[1]->helo);
	assert_int_equal(a[1]->nmessages, 0);
	assert_int_equal(a[1]->nrejects, 2);
	r = &a[1]->rejects[0];
	t_streq("stage", r->stage, "rcpt");
	t_streq("outcome", r->outcome, "rejected");
	t_streq("mail_from", r->mail_from, "a@x.test");
	assert_int_equal(r->nrcpt, 2);
	t_streq("rcpt_to 0", r->rcpt_to[0], "ok@y.test");
	t_streq("rcpt_to 1", r->rcpt_to[1], "ok2@y.test");
	t_streq("rcpt", r->rcpt, "no@y.test");
	t_streq("reply", r->reply, "550 5.1.1 No such user");
	assert_int_equal(strlen(r->time), 24);
	r = &a[1]->rejects[1];
	t_streq("stage", r->stage, "helo");
	t_streq("outcome", r->outcome, "disconnected");
	assert_null(r->mail_from);
	assert_int_equal(r->nrcpt, 0);
	assert_null(r->rcpt);
	assert_null(r->reply);
	/* Session 3: rejected at connect, no envelope. */
	assert_int_equal(a[0]->nrejects, 1);
	t_streq("stage", a[0]->rejects[0].stage, "connect");
	assert_int_equal(a[0]->rejects[0].nrcpt, 0);
	store_sesses_free(a, n);

	assert_int_equal(store_sess_list(st, 1, 0, &a, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_int_equal(a[0]->id, s3);
	assert_int_equal(a[1]->id, s2);
	store_sesses_free(a, n);
	assert_int_equal(store_sess_list(st, 0, 1, &a, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0]->id, s3);
	store_sesses_free(a, n);

	assert_int_equal(store_sess_transcript(st, id, &text, &cause), 0);
	t_streq("transcript", text, "C: EHLO mx.test\nS: 250 ok\n");
	free(text);
	assert_int_equal(store_sess_transcript(st, id + 1, &text, &cause), 1);
	assert_null(text);
	/* A message from no session, stored without one, has an empty one. */
	id = t_put(st, 0, "a@x.test", "b@y.test", "Subject: two\r\n\r\n");
	assert_int_equal(store_sess_transcript(st, id, &text, &cause), 0);
	t_streq("no transcript", text, "");
	free(text);
	/* One from a session still open, stored without one: empty too. */
	id = t_put(st, s2, "a@x.test", "b@y.test", "Subject: three\r\n\r\n");
	assert_int_equal(store_sess_transcript(st, id, &text, &cause), 0);
	t_streq("open transcript", text, "");
	free(text);
}

static void
test_sessions_empty(void **state)
{
	struct store		*st = *state;
	struct store_sess	**a;
	size_t			  n = 7;
	char			 *cause = NULL;

	assert_int_equal(store_sess_list(st, 0, 0, &a, &n, &cause), 0);
	assert_int_equal(n, 0);
	assert_null(a);
}

/* ------------------------------------------------------------ readers */

static void
test_reader_sees_writer(void **state)
{
	struct t_dir		*t = *state;
	struct store		*w, *r;
	struct store_msg	*m;
	struct store_sess	**a;
	size_t			  n, len;
	uint64_t		  count;
	int64_t			  id, latest, sess;
	char			 *cause = NULL, *raw;

	w = t_open(t->path, 0);
	r = t_open(t->path, STORE_READONLY);
	assert_int_equal(store_msg_count(r, NULL, &count, &cause), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_msg_latest(r, &latest, &cause), 1);

	assert_int_equal(store_session_begin(w, "127.0.0.1", NULL, &sess,
	    &cause), 0);
	id = t_put(w, sess, "a@x.test", "b@y.test", "Subject: live\r\n\r\n");
	assert_int_equal(store_msg_count(r, NULL, &count, &cause), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_msg_latest(r, &latest, &cause), 0);
	assert_int_equal(latest, id);
	assert_int_equal(store_msg_get(r, id, &m, &cause), 0);
	t_streq("subject", m->subject, "live");
	store_msg_free(m);
	assert_int_equal(store_msg_raw(r, id, &raw, &len, &cause), 0);
	assert_memory_equal(raw, "Subject: live\r\n\r\n", len);
	free(raw);
	assert_int_equal(store_sess_list(r, 0, 0, &a, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0]->nmessages, 1);
	store_sesses_free(a, n);

	/* A reader cannot write. */
	assert_int_equal(store_msg_delete(r, id, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;

	/* The writer's delete shows too. */
	assert_int_equal(store_msg_delete(w, id, &cause), 0);
	assert_int_equal(store_msg_count(r, NULL, &count, &cause), 0);
	assert_int_equal(count, 0);
	store_close(r);
	store_close(w);
}

static void
test_reader_before_schema(void **state)
{
	struct t_dir		*t = *state;
	struct store		*w, *r;
	struct store_msg	**a, *m;
	struct store_sess	**s;
	size_t			  n, len;
	uint64_t		  count;
	int64_t			  id, latest;
	char			 *cause = NULL, *raw, *text;
	int			  fd;

	/* The file exists but the server has not made the tables yet. */
	fd = open(t->path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd != -1);
	close(fd);
	r = t_open(t->path, STORE_READONLY);
	assert_int_equal(store_msg_count(r, NULL, &count, &cause), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_msg_list(r, NULL, 0, 0, &a, &n, &cause), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_msg_latest(r, &latest, &cause), 1);
	assert_int_equal(store_msg_get(r, 1, &m, &cause), 1);
	assert_int_equal(store_msg_raw(r, 1, &raw, &len, &cause), 1);
	assert_int_equal(store_sess_list(r, 0, 0, &s, &n, &cause), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_sess_transcript(r, 1, &text, &cause), 1);

	/* Now the server starts: the same reader sees its messages. */
	w = t_open(t->path, 0);
	id = t_put(w, 0, "a@x.test", "b@y.test", "Subject: first\r\n\r\n");
	assert_int_equal(store_msg_count(r, NULL, &count, &cause), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_msg_latest(r, &latest, &cause), 0);
	assert_int_equal(latest, id);
	store_close(w);
	store_close(r);
}

static void
test_reader_after_writer_closed(void **state)
{
	struct t_dir	*t = *state;
	struct store	*w, *r;
	uint64_t	 count;
	char		*cause = NULL;
	int64_t		 ids[3];

	w = t_open(t->path, 0);
	t_put_n(w, ids, 3);
	store_close(w);		/* checkpoints and removes the WAL */
	r = t_open(t->path, STORE_READONLY);
	assert_int_equal(store_msg_count(r, NULL, &count, &cause), 0);
	assert_int_equal(count, 3);
	store_close(r);
}

/* ------------------------------------------------------------ index */

/* How many messages match the one query term in st (may be a reader). */
static size_t
t_count_term(struct store *st, const char *term)
{
	struct query	*q;
	uint64_t	 count;
	char		*cause = NULL, *terms[1];

	terms[0] = xstrdup(term);
	if ((q = query_parse(1, terms, &cause)) == NULL)
		fail_msg("query_parse %s: %s", term, cause);
	if (store_msg_count(st, q, &count, &cause) == -1)
		fail_msg("count %s: %s", term, cause);
	query_free(q);
	free(terms[0]);
	return ((size_t)count);
}

/*
 * Messages are stored unindexed; store_index adds them in id order, a
 * chunk at a time, and says whether any are left.
 */
static void
test_index_chunks(void **state)
{
	struct t_dir	*t = *state;
	struct store	*st;
	int64_t		 ids[3];
	char		*cause = NULL;

	st = t_open(t->path, 0);
	t_put_n(st, ids, 3);
	assert_int_equal(t_scalar(t->path, "SELECT upto FROM indexed"), 0);
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM search"), 0);

	assert_int_equal(store_index(st, 2, &cause), 1);
	assert_int_equal(t_scalar(t->path, "SELECT upto FROM indexed"),
	    ids[1]);
	assert_int_equal(store_index(st, 2, &cause), 0);
	assert_int_equal(t_scalar(t->path, "SELECT upto FROM indexed"),
	    ids[2]);
	assert_int_equal(store_index(st, 2, &cause), 0);
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM search"), 3);
	/* What went in: subject, senders, recipients and body text. */
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM search "
	    "WHERE search MATCH 'subject:s1 AND sender:s1 AND "
	    "recipients:r1 AND body:1'"), 1);
	store_close(st);
}

/*
 * A search never misses a stored message: a reader (read-only) indexes
 * what the writer has not yet, before it searches.
 */
static void
test_index_on_read(void **state)
{
	struct t_dir	*t = *state;
	struct store	*w, *r;
	int64_t		 ids[3], id;

	w = t_open(t->path, 0);
	r = t_open(t->path, STORE_READONLY);
	t_put_n(w, ids, 3);
	assert_int_equal(t_count_term(r, "body"), 3);
	assert_int_equal(t_count_term(r, "to:r2@y.test"), 1);
	assert_int_equal(t_scalar(t->path, "SELECT upto FROM indexed"),
	    ids[2]);

	/* One more, with its text in an HTML part only. */
	id = t_put(w, 0, "a@x.test", "b@y.test", "Subject: late\r\n"
	    "Content-Type: text/html\r\n\r\n<p>tardigrade</p>\r\n");
	assert_int_equal(t_count_term(r, "tardigrade"), 1);
	assert_int_equal(t_count_term(r, "p"), 0);
	assert_int_equal(t_scalar(t->path, "SELECT upto FROM indexed"), id);
	/* The writer searches the same way. */
	assert_int_equal(t_count_term(w, "subject:late"), 1);
	store_close(r);
	store_close(w);
}

/* A big message is indexed from its head, without reading it all. */
static void
test_index_big_message(void **state)
{
	struct t_dir	*t = *state;
	struct store	*st;
	struct envelope	 env;
	struct spool	*sp;
	const char	*rcpts[1] = { "big@y.test" };
	char		*data, *cause = NULL;
	size_t		 len = 3 * 1024 * 1024, n;
	int64_t		 id;

	data = xmalloc(len);
	n = (size_t)snprintf(data, len, "Subject: big\r\n\r\nquokka\r\n");
	memset(data + n, 'x', len - n);
	memcpy(data + len - 12, "\r\nwombat\r\n", 10);
	st = t_open(t->path, 0);
	t_env(&env, "a@x.test", rcpts, 1);
	sp = t_spool(data, len, 65536);
	assert_int_equal(store_message_put(st, 0, NULL, &env, NULL, sp, NULL,
	    &id, &cause), 0);
	spool_free(sp);
	envelope_clear(&env);
	assert_int_equal(t_count_term(st, "quokka"), 1);
	/* Only the head is decoded for text (MIME_SEARCH_TEXT_MAX). */
	assert_int_equal(t_count_term(st, "wombat"), 0);
	store_close(st);
	free(data);
}

/*
 * A version 2 store (every message indexed before its 250) is migrated
 * without indexing anything twice.
 */
static void
test_open_migrates_v2(void **state)
{
	struct t_dir	*t = *state;
	struct store	*st;
	int64_t		 ids[2];

	st = t_open(t->path, 0);
	t_put_n(st, ids, 2);
	assert_int_equal(t_count_term(st, "body"), 2);
	store_close(st);
	t_exec(t->path, "DROP TABLE indexed; PRAGMA user_version = 2");

	st = t_open(t->path, 0);
	assert_int_equal(t_scalar(t->path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(t_scalar(t->path, "SELECT upto FROM indexed"),
	    ids[1]);
	assert_int_equal(t_count_term(st, "body"), 2);
	assert_int_equal(t_scalar(t->path, "SELECT count(*) FROM search"), 2);
	store_close(st);
}

/*
 * WAL checkpoints happen on the checkpointer thread: with SQLite's own
 * automatic checkpoint replaced by store.c's WAL hook, the database file
 * grows only if that thread copies the WAL back into it.
 */
static void
test_checkpointer(void **state)
{
	struct t_dir	*t = *state;
	struct store	*st;
	struct stat	 sb;
	struct timespec	 step = { 0, 10 * 1000 * 1000 };
	char		*data;
	size_t		 i, len = 16 * 1024;
	int		 waited;

	data = xmalloc(len + 1);
	memcpy(data, "Subject: fill\r\n\r\n", 17);
	memset(data + 17, 'f', len - 17);
	data[len] = '\0';
	st = t_open(t->path, 0);
	assert_int_equal(stat(t->path, &sb), 0);
	assert_true(sb.st_size < 1024 * 1024);
	/* About 5 pages a message: well past the 1000 that kick it. */
	for (i = 0; i < 400; i++)
		t_put(st, 0, "a@x.test", "b@y.test", data);
	for (waited = 0; waited < 1000; waited++) {
		assert_int_equal(stat(t->path, &sb), 0);
		if (sb.st_size >= 3 * 1024 * 1024)
			break;
		nanosleep(&step, NULL);
	}
	if (sb.st_size < 3 * 1024 * 1024)
		fail_msg("no checkpoint within 10 s: the file has %lld bytes",
		    (long long)sb.st_size);
	store_close(st);
	/* Closing checkpoints the rest and removes the WAL. */
	assert_int_equal(stat(t->path, &sb), 0);
	assert_true(sb.st_size >= 400 * 16 * 1024);
	free(data);
}

/* A test of its own on a fresh ":memory:" store. */
static int
t_mem_setup(void **state)
{
	char	*cause = NULL;

	if ((*state = store_open(":memory:", 0, &cause)) == NULL) {
		fprintf(stderr, "store_open: %s\n", cause);
		free(cause);
		return (-1);
	}
	return (0);
}

static int
t_mem_teardown(void **state)
{
	store_close(*state);
	return (0);
}

#define T_FILE(f)	cmocka_unit_test_setup_teardown(f, t_setup, t_teardown)
#define T_MEM(f)	cmocka_unit_test_setup_teardown(f, t_mem_setup, \
			    t_mem_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool_sizes),
		cmocka_unit_test(test_spool_reset_after_spill),
		cmocka_unit_test(test_spool_budget),
		cmocka_unit_test(test_spool_tmpdir_fails),
		cmocka_unit_test(test_open_memory),
		T_FILE(test_open_migrates),
		T_FILE(test_open_reopen),
		T_FILE(test_open_migrates_v1),
		T_FILE(test_open_newer_refused),
		T_FILE(test_open_not_database),
		T_FILE(test_open_missing),
		T_MEM(test_put_memory_spool),
		T_FILE(test_put_spilled_spool),
		T_MEM(test_put_empty_message),
		T_MEM(test_put_oversize_refused),
		T_FILE(test_put_failure_rolls_back),
		T_FILE(test_recipients_columns),
		T_MEM(test_list),
		T_MEM(test_list_many_recipients),
		T_MEM(test_list_query),
		T_FILE(test_delete),
		T_FILE(test_delete_all),
		T_FILE(test_prune),
		T_MEM(test_sessions),
		T_MEM(test_sessions_empty),
		T_FILE(test_reader_sees_writer),
		T_FILE(test_reader_before_schema),
		T_FILE(test_reader_after_writer_closed),
		T_FILE(test_index_chunks),
		T_FILE(test_index_on_read),
		T_FILE(test_index_big_message),
		T_FILE(test_open_migrates_v2),
		T_FILE(test_checkpointer),
	};

	mime_init();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
