/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz share.
 *
 * A target is one file, fuzz_<module>.c, defining LLVMFuzzerTestOneInput()
 * (and maybe LLVMFuzzerInitialize()).  Each drives a pure core module the
 * way the shell does and checks properties that must hold for any input:
 * output that does not depend on how the input was split, a parse that
 * reads back the same, replies that are well formed.  A property that
 * fails is reported with FUZZ_ASSERT, which aborts, so libFuzzer (and a
 * plain regression run over the corpus) records it as a crash.
 *
 * Nothing here may keep state from one input to the next: a crash must be
 * reproducible from its input file alone.
 */
#ifndef MAILSINK_FUZZ_H
#define MAILSINK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

/* A broken property: say which and where, then crash for libFuzzer. */
#define FUZZ_ASSERT(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s: ",		\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/*
 * A small deterministic generator (xorshift32) for chunk sizes, seeded
 * from bytes of the input, so the split points are the fuzzer's choice
 * and a crash replays from its file.
 */
struct fuzz_rng {
	uint32_t	state;		/* never 0 */
};

static inline void
fuzz_rng_init(struct fuzz_rng *r, uint32_t seed)
{
	r->state = seed * 2654435761u + 0x9e3779b9u;
	if (r->state == 0)
		r->state = 1;
}

static inline uint32_t
fuzz_rng_next(struct fuzz_rng *r)
{
	uint32_t	x = r->state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	r->state = x;
	return (x);
}

/*
 * The next chunk length (1..left) for split style style & 3: 0 one byte
 * at a time, 1 up to 8 bytes, 2 up to 128, 3 up to 4096.
 */
static inline size_t
fuzz_chunk(struct fuzz_rng *r, size_t left, unsigned style)
{
	static const size_t	 max[] = { 1, 8, 128, 4096 };
	size_t			 n;

	n = 1 + fuzz_rng_next(r) % max[style & 3];
	return (n < left ? n : left);
}

/* Return a NUL-terminated copy of the input (an embedded NUL ends it). */
static inline char *
fuzz_strdup(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return (s);
}

#endif /* MAILSINK_FUZZ_H */
