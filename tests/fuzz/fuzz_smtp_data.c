/*
 * fuzz_smtp_data.c - libFuzzer target for the DATA decoder (smtp_data).
 *
 * Input: byte 0 picks the split style, bytes 1-2 seed the split points,
 * the rest is what a client sends after DATA.  The decoder is run over
 * it as conn.c does: feed, and when CR LF . CR LF completes, take the
 * message, reset the decoder and go on with the bytes after it (a client
 * pipelining one message after another).  This is done three times:
 * whole, in chunks of fuzzer-chosen sizes, and one byte at a time.  The
 * decoder promises output that does not depend on the split points, so
 * the three runs must give the same bodies, end points, sizes and flags.
 * Each message must also end where the grammar says (RFC 5321 4.1.1.4:
 * only CR LF . CR LF, or "." CR LF at the very start), its body can never
 * be longer than its input, and the size must count what the sink got.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "smtp_data.h"

/* One message (or the unfinished tail) as decoded. */
struct fuzz_msg {
	size_t	 body;		/* offset of its body in fuzz_run.out */
	size_t	 bodylen;
	size_t	 consumed;	/* input bytes through the final LF */
	int	 done;		/* ended by CR LF . CR LF */
	int	 flags;		/* smtp_data_flags() at the end */
	uint64_t size;		/* smtp_data_size() at the end */
};

/* Everything one way of feeding produced. */
struct fuzz_run {
	char		*out;		/* all bodies, back to back */
	size_t		 outlen;
	struct fuzz_msg	*msgs;
	size_t		 nmsgs;
};

/* The sink: append the body piece to the run's output. */
static void
fuzz_data_sink_cb(void *arg, const char *p, size_t len)
{
	struct fuzz_run	*run = arg;

	FUZZ_ASSERT(len > 0, "empty piece given to the sink");
	if ((run->out = realloc(run->out, run->outlen + len)) == NULL)
		abort();
	memcpy(run->out + run->outlen, p, len);
	run->outlen += len;
}

/* Record the message that just ended (or the unfinished tail). */
static void
fuzz_data_msg(struct fuzz_run *run, const struct smtp_data *d, size_t body,
    size_t consumed, int done)
{
	struct fuzz_msg	*m;

	run->msgs = realloc(run->msgs, (run->nmsgs + 1) * sizeof(*run->msgs));
	if (run->msgs == NULL)
		abort();
	m = &run->msgs[run->nmsgs++];
	m->body = body;
	m->bodylen = run->outlen - body;
	m->consumed = consumed;
	m->done = done;
	m->flags = smtp_data_flags(d);
	m->size = smtp_data_size(d);
	FUZZ_ASSERT(m->size == m->bodylen, "size %llu but %zu bytes sunk",
	    (unsigned long long)m->size, m->bodylen);
	FUZZ_ASSERT(m->bodylen <= consumed, "body %zu longer than input %zu",
	    m->bodylen, consumed);
}

/* Decode in[0..len) fed in chunks chosen by rng and style. */
static void
fuzz_data_run(struct fuzz_run *run, const char *in, size_t len,
    struct fuzz_rng *rng, unsigned style, int whole)
{
	struct smtp_data	*d;
	const char		*start = in, *msg = in;
	size_t			 chunk, n, body = 0;
	int			 done;

	memset(run, 0, sizeof(*run));
	d = smtp_data_new();
	while (len > 0) {
		chunk = whole ? len : fuzz_chunk(rng, len, style);
		len -= chunk;
		while (chunk > 0) {
			n = smtp_data_feed(d, in, chunk, fuzz_data_sink_cb,
			    run, &done);
			FUZZ_ASSERT(n <= chunk, "consumed %zu of %zu", n,
			    chunk);
			in += n;
			chunk -= n;
			if (!done) {
				FUZZ_ASSERT(chunk == 0, "not done but %zu"
				    " bytes left", chunk);
				break;
			}
			/* Only CR LF . CR LF (or . CR LF first) ends it. */
			n = (size_t)(in - msg);
			FUZZ_ASSERT(n >= 3 && memcmp(in - 3, ".\r\n", 3) == 0 &&
			    (n == 3 || (n >= 5 &&
			    memcmp(in - 5, "\r\n", 2) == 0)),
			    "message of %zu bytes ended at offset %zu", n,
			    (size_t)(in - start));
			fuzz_data_msg(run, d, body, n, 1);
			/* Once done it takes nothing until reset. */
			if (chunk > 0) {
				n = smtp_data_feed(d, in, chunk,
				    fuzz_data_sink_cb, run, &done);
				FUZZ_ASSERT(n == 0 && done, "fed after the"
				    " end: consumed %zu, done %d", n, done);
			}
			smtp_data_reset(d);
			FUZZ_ASSERT(smtp_data_size(d) == 0 &&
			    smtp_data_flags(d) == 0, "reset left state");
			msg = in;
			body = run->outlen;
		}
	}
	fuzz_data_msg(run, d, body, (size_t)(in - msg), 0);
	smtp_data_free(d);
}

static void
fuzz_data_compare(const struct fuzz_run *a, const struct fuzz_run *b,
    const char *what)
{
	const struct fuzz_msg	*ma, *mb;
	size_t			 i;

	FUZZ_ASSERT(a->nmsgs == b->nmsgs, "%s: %zu messages, whole %zu",
	    what, b->nmsgs, a->nmsgs);
	for (i = 0; i < a->nmsgs; i++) {
		ma = &a->msgs[i];
		mb = &b->msgs[i];
		FUZZ_ASSERT(ma->consumed == mb->consumed &&
		    ma->done == mb->done, "%s: message %zu ends at %zu/%d,"
		    " whole at %zu/%d", what, i, mb->consumed, mb->done,
		    ma->consumed, ma->done);
		FUZZ_ASSERT(ma->flags == mb->flags, "%s: message %zu flags"
		    " %#x, whole %#x", what, i, mb->flags, ma->flags);
		FUZZ_ASSERT(ma->bodylen == mb->bodylen &&
		    (ma->bodylen == 0 || memcmp(a->out + ma->body,
		    b->out + mb->body, ma->bodylen) == 0),
		    "%s: message %zu body differs (%zu"
		    " bytes, whole %zu)", what, i, mb->bodylen, ma->bodylen);
	}
}

static void
fuzz_data_clear(struct fuzz_run *run)
{
	free(run->out);
	free(run->msgs);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LEVEL_ERROR, 0);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_run	 whole, chunked, bytes;
	struct fuzz_rng	 rng;
	unsigned	 style;

	if (size < 3)
		return (0);
	style = data[0];
	fuzz_rng_init(&rng, (uint32_t)data[1] << 8 | data[2]);
	data += 3;
	size -= 3;

	fuzz_data_run(&whole, (const char *)data, size, &rng, 0, 1);
	fuzz_data_run(&chunked, (const char *)data, size, &rng, style, 0);
	fuzz_data_run(&bytes, (const char *)data, size, &rng, 0, 0);
	fuzz_data_compare(&whole, &chunked, "chunked");
	fuzz_data_compare(&whole, &bytes, "1-byte");
	fuzz_data_clear(&whole);
	fuzz_data_clear(&chunked);
	fuzz_data_clear(&bytes);
	return (0);
}
