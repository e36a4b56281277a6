/*
 * rules.c - reject-rule evaluation: (stage, value) to a verdict.
 *
 * Pure core.  This file never reads the clock, never sleeps and never
 * asks the system for randomness: a delay is returned as a verdict for
 * the shell to carry out, and `probability` draws from a xoshiro256**
 * generator seeded (through splitmix64, as its authors advise) with the
 * seed given to rules_new().  The same seed and the same sequence of
 * checks therefore give the same verdicts, which is what `rule-seed` is
 * for.  A draw is made only when a rule with `probability` matches and
 * its `times` limit (if any) is not used up, so adding a rule without
 * `probability` does not shift the sequence the other rules see.
 *
 * Evaluation.  Rules are tried in order from *cursor; the first whose
 * stage and match fit and which fires decides.  `reply`, `disconnect` and
 * `accept` end the evaluation; `delay` returns DELAY and leaves *cursor
 * just past itself, so the session's next call after the pause goes on
 * with the following rule.  When no rule fired, a magic +smtpNNN address
 * decides at MAIL and RCPT (unless rules_set_magic(rs, 0)); `accept`
 * skips that too.
 *
 * `times N`.  Every attempt whose stage and match fit counts, whether or
 * not `probability` then lets the rule fire; the rule fires only on the
 * first N attempts for each distinct (rule, matched value) pair, the value
 * compared without regard to ASCII case.  The rule fixes the stage, so the
 * key needs no stage of its own.  The matched value is the client address,
 * HELO name, user, sender or recipient, or for a data rule the header's
 * value ("" for `data *`).  A counter holds a 64-bit hash of the value,
 * not the value: an address can be 256 octets and a header far longer,
 * and the chance that two of at most RULES_COUNTERS_MAX values collide is
 * below 1 in 10^9.
 *
 * The counter table is bounded, since a client can send endless distinct
 * recipients: at most RULES_COUNTERS_MAX counters, and when it is full the
 * counter created longest ago is dropped (first in, first out).  A value
 * whose counter was dropped is treated as never seen, so a greylisted
 * recipient may be greylisted once more; nothing worse can happen.
 *
 * rules_reload() carries the counters of unchanged rules, matched by
 * their canonical text, and the generator's state into a freshly built
 * struct rules, so a SIGHUP does not greylist everything again.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "log.h"
#include "magic.h"
#include "rules.h"
#include "xmalloc.h"

#define RULES_BUCKETS_MIN	64	/* first size of the counter index */

/* One `times` counter: attempts seen for (rule, value). */
struct rules_counter {
	size_t		 rule;	/* index of the rule in rs->v */
	uint64_t	 hash;	/* rules_hash() of the value */
	uint64_t	 count;	/* attempts, saturating at times */
	struct rules_counter *chain; /* next in the same bucket */
	struct rules_counter *newer; /* next younger in age order */
};

struct rules_entry {
	struct rule	 rule;
	char		*origin;	/* "FILE:LINE" or NULL */
};

struct rules {
	struct rules_entry *v;		/* rules in evaluation order */
	size_t		 n;
	uint64_t	 prng[4];	/* xoshiro256** state */
	int		 magic;		/* +smtpNNN addresses on */

	struct rules_counter **buckets;	/* hash index, chained */
	size_t		 nbuckets;	/* a power of 2, or 0 */
	size_t		 ncounters;
	size_t		 max;		/* most counters kept */
	struct rules_counter *oldest;	/* age list: evicted first */
	struct rules_counter *newest;
};

static uint64_t	rules_splitmix(uint64_t *);
static uint64_t	rules_rotl(uint64_t, int);
static uint64_t	rules_prng_next(struct rules *);
static double	rules_prng_double(struct rules *);
static uint64_t	rules_mix(uint64_t);
static uint64_t	rules_hash(const char *);
static size_t	rules_bucket(const struct rules *, size_t, uint64_t);
static void	rules_counters_clear(struct rules *);
static void	rules_counters_grow(struct rules *);
static void	rules_counter_evict(struct rules *);
static struct rules_counter *rules_counter_get(struct rules *, size_t,
		    uint64_t);
static const char *rules_glob_next(const char *);
static const char *rules_match(const struct rule *, const char *,
		    smtp_header_fn, void *);
static int	rules_fire(struct rules *, size_t, const char *);

/* splitmix64: expands the one seed into xoshiro's 256 bits of state. */
static uint64_t
rules_splitmix(uint64_t *x)
{
	uint64_t	z;

	z = (*x += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (z ^ (z >> 31));
}

static uint64_t
rules_rotl(uint64_t x, int k)
{
	return ((x << k) | (x >> (64 - k)));
}

/* xoshiro256** (Blackman and Vigna): the next 64 random bits. */
static uint64_t
rules_prng_next(struct rules *rs)
{
	uint64_t	*s = rs->prng;
	uint64_t	 result, t;

	result = rules_rotl(s[1] * 5, 7) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rules_rotl(s[3], 45);
	return (result);
}

/* A uniform double in [0, 1) from the top 53 bits. */
static double
rules_prng_double(struct rules *rs)
{
	return ((double)(rules_prng_next(rs) >> 11) / 9007199254740992.0);
}

/* The splitmix64 finaliser, to spread a hash over all its bits. */
static uint64_t
rules_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (z ^ (z >> 31));
}

/* 64-bit FNV-1a of s in ASCII lower case, then mixed. */
static uint64_t
rules_hash(const char *s)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);

	for (; *s != '\0'; s++) {
		h ^= (uint64_t)tolower((unsigned char)*s);
		h *= UINT64_C(0x100000001b3);
	}
	return (rules_mix(h));
}

/* The bucket of (rule, hash). */
static size_t
rules_bucket(const struct rules *rs, size_t rule, uint64_t hash)
{
	return ((size_t)rules_mix(hash + (uint64_t)rule *
	    UINT64_C(0x9e3779b97f4a7c15)) & (rs->nbuckets - 1));
}

/*
 * Create an empty rule set whose probability draws are seeded by seed.
 * Magic addresses are on.  Returns an owned object: rules_free() it.
 */
struct rules *
rules_new(uint64_t seed)
{
	struct rules	*rs;
	int		 i;

	rs = xcalloc(1, sizeof(*rs));
	for (i = 0; i < 4; i++)
		rs->prng[i] = rules_splitmix(&seed);
	rs->magic = 1;
	rs->max = RULES_COUNTERS_MAX;
	return (rs);
}

/* Drop every counter. */
static void
rules_counters_clear(struct rules *rs)
{
	struct rules_counter	*c, *next;

	for (c = rs->oldest; c != NULL; c = next) {
		next = c->newer;
		free(c);
	}
	free(rs->buckets);
	rs->buckets = NULL;
	rs->nbuckets = 0;
	rs->ncounters = 0;
	rs->oldest = rs->newest = NULL;
}

/* Free rs and everything it holds; NULL is fine. */
void
rules_free(struct rules *rs)
{
	size_t	i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++) {
		rules_parse_clear(&rs->v[i].rule);
		free(rs->v[i].origin);
	}
	free(rs->v);
	rules_counters_clear(rs);
	free(rs);
}

/*
 * Parse text (a rule without the "rule" keyword) and append it.  origin
 * ("FILE:LINE", or NULL) is copied and kept for rules_origin().  Returns
 * 0, or -1 with *cause from rules_parse_line ("col N: ..."; caller frees
 * it and adds the origin to it) and rs unchanged.
 */
int
rules_add(struct rules *rs, const char *text, const char *origin,
    char **cause)
{
	struct rule	r;

	if (rules_parse_line(text, &r, cause) == -1)
		return (-1);
	if (rs->n >= INT_MAX - 1)	/* the session's cursor is an int */
		fatalx("%s: too many rules", __func__);
	rs->v = xreallocarray(rs->v, rs->n + 1, sizeof(*rs->v));
	rs->v[rs->n].rule = r;
	rs->v[rs->n].origin = origin != NULL ? xstrdup(origin) : NULL;
	rs->n++;
	return (0);
}

/* The number of rules. */
size_t
rules_count(const struct rules *rs)
{
	return (rs->n);
}

/* Rule i (0-based, less than rules_count); valid while rs lives. */
const struct rule *
rules_get(const struct rules *rs, size_t i)
{
	if (i >= rs->n)
		fatalx("%s: rule %zu of %zu", __func__, i, rs->n);
	return (&rs->v[i].rule);
}

/* The origin given to rules_add for rule i, or NULL. */
const char *
rules_origin(const struct rules *rs, size_t i)
{
	if (i >= rs->n)
		fatalx("%s: rule %zu of %zu", __func__, i, rs->n);
	return (rs->v[i].origin);
}

/* Turn the +smtpNNN addresses on (the default) or off. */
void
rules_set_magic(struct rules *rs, int on)
{
	rs->magic = on != 0;
}

/*
 * Keep at most max `times` counters (RULES_COUNTERS_MAX by default; at
 * least 1).  Counters past a smaller new limit are dropped oldest first.
 */
void
rules_set_counters_max(struct rules *rs, size_t max)
{
	rs->max = max > 0 ? max : 1;
	while (rs->ncounters > rs->max)
		rules_counter_evict(rs);
}

/* The number of `times` counters held now. */
size_t
rules_counters(const struct rules *rs)
{
	return (rs->ncounters);
}

/* Double the bucket array (load factor at most 1) and rehash. */
static void
rules_counters_grow(struct rules *rs)
{
	struct rules_counter	*c;
	size_t			 b;

	rs->nbuckets = rs->nbuckets == 0 ? RULES_BUCKETS_MIN :
	    rs->nbuckets * 2;
	free(rs->buckets);
	rs->buckets = xcalloc(rs->nbuckets, sizeof(*rs->buckets));
	for (c = rs->oldest; c != NULL; c = c->newer) {
		b = rules_bucket(rs, c->rule, c->hash);
		c->chain = rs->buckets[b];
		rs->buckets[b] = c;
	}
}

/* Drop the oldest counter. */
static void
rules_counter_evict(struct rules *rs)
{
	struct rules_counter	*c = rs->oldest, **pp;

	if (c == NULL)
		fatalx("%s: no counters", __func__);
	pp = &rs->buckets[rules_bucket(rs, c->rule, c->hash)];
	while (*pp != c) {
		if (*pp == NULL)
			fatalx("%s: counter not in its bucket", __func__);
		pp = &(*pp)->chain;
	}
	*pp = c->chain;
	rs->oldest = c->newer;
	if (rs->oldest == NULL)
		rs->newest = NULL;
	rs->ncounters--;
	free(c);
}

/* Find the counter of (rule, hash), creating it at 0 if needed. */
static struct rules_counter *
rules_counter_get(struct rules *rs, size_t rule, uint64_t hash)
{
	struct rules_counter	*c;
	size_t			 b;

	if (rs->nbuckets != 0) {
		b = rules_bucket(rs, rule, hash);
		for (c = rs->buckets[b]; c != NULL; c = c->chain) {
			if (c->rule == rule && c->hash == hash)
				return (c);
		}
	}
	while (rs->ncounters >= rs->max)
		rules_counter_evict(rs);
	if (rs->ncounters >= rs->nbuckets)
		rules_counters_grow(rs);

	c = xcalloc(1, sizeof(*c));
	c->rule = rule;
	c->hash = hash;
	b = rules_bucket(rs, rule, hash);
	c->chain = rs->buckets[b];
	rs->buckets[b] = c;
	if (rs->newest != NULL)
		rs->newest->newer = c;
	else
		rs->oldest = c;
	rs->newest = c;
	rs->ncounters++;
	return (c);
}

/* Step over one UTF-8 character (a lead byte and its continuations). */
static const char *
rules_glob_next(const char *s)
{
	s++;
	while (((unsigned char)*s & 0xc0) == 0x80)
		s++;
	return (s);
}

/*
 * Return 1 if value matches the glob pattern, 0 if not.  '*' matches any
 * run of characters, '?' exactly one (one UTF-8 character, so a glob
 * works on SMTPUTF8 addresses); everything else matches itself without
 * regard to ASCII case.  A single backtracking point for the last '*'
 * makes this O(len(pattern) * len(value)) at worst, so a pattern such as
 * "*a*a*a*a*b" cannot blow up on a long value.
 */
int
rules_glob(const char *pattern, const char *value)
{
	const char	*p = pattern, *s = value;
	const char	*star_p = NULL, *star_s = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star_p = ++p;
			star_s = s;
			continue;
		}
		if (*p == '?') {
			p++;
			s = rules_glob_next(s);
			continue;
		}
		if (*p != '\0' && tolower((unsigned char)*p) ==
		    tolower((unsigned char)*s)) {
			p++;
			s++;
			continue;
		}
		if (star_p == NULL)
			return (0);
		/* Let the last '*' take one more character, and retry. */
		p = star_p;
		s = star_s = rules_glob_next(star_s);
	}
	while (*p == '*')
		p++;
	return (*p == '\0');
}

/*
 * If rule r's match fits, return the matched value (the key for `times`);
 * otherwise NULL.  The stage was checked by the caller.
 */
static const char *
rules_match(const struct rule *r, const char *value, smtp_header_fn header,
    void *harg)
{
	const char	*hv;

	switch (r->match) {
	case RULE_MATCH_ANY:
		return (value);
	case RULE_MATCH_GLOB:
		return (rules_glob(r->glob, value) ? value : NULL);
	case RULE_MATCH_NET:
		return (netaddr_match(&r->net, value) ? value : NULL);
	case RULE_MATCH_HEADER:
		/* A message without the header never matches, even "*". */
		if (header == NULL || (hv = header(harg, r->header)) == NULL)
			return (NULL);
		return (rules_glob(r->glob, hv) ? hv : NULL);
	}
	fatalx("%s: match %d", __func__, (int)r->match);
}

/* Count an attempt of rule i on key; return 1 if the rule fires. */
static int
rules_fire(struct rules *rs, size_t i, const char *key)
{
	const struct rule	*r = &rs->v[i].rule;
	struct rules_counter	*c;

	if (r->times != 0) {
		c = rules_counter_get(rs, i, rules_hash(key));
		if (c->count >= r->times)
			return (0);
		c->count++;
	}
	if (r->has_probability)
		return (rules_prng_double(rs) < r->probability);
	return (1);
}

/*
 * The smtp_check_fn for struct rules (arg): evaluate the rules for stage
 * and value from *cursor on and fill *out (see the file comment).  *cursor
 * is set past a DELAY rule and to 0 after any other verdict.  value NULL
 * is taken as "".  header/harg look up a message header at the DATA stage
 * (the returned string is only read during the call).
 */
void
rules_check(void *arg, enum smtp_stage stage, const char *value,
    smtp_header_fn header, void *harg, int *cursor, struct smtp_verdict *out)
{
	struct rules		*rs = arg;
	const struct rule	*r;
	const char		*key;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	out->kind = SMTP_VERDICT_PASS;
	if (value == NULL)
		value = "";
	i = *cursor > 0 ? (size_t)*cursor : 0;
	for (; i < rs->n; i++) {
		r = &rs->v[i].rule;
		if (r->stage != stage)
			continue;
		if ((key = rules_match(r, value, header, harg)) == NULL)
			continue;
		if (!rules_fire(rs, i, key))
			continue;
		*cursor = 0;
		switch (r->action) {
		case RULE_ACT_ACCEPT:
			return;
		case RULE_ACT_DISCONNECT:
			out->kind = SMTP_VERDICT_DISCONNECT;
			return;
		case RULE_ACT_DELAY:
			out->kind = SMTP_VERDICT_DELAY;
			out->delay_ms = r->delay_ms;
			*cursor = (int)(i + 1);
			return;
		case RULE_ACT_REPLY:
			out->kind = SMTP_VERDICT_REPLY;
			out->code = r->code;
			if (strlcpy(out->enh, r->enh, sizeof(out->enh)) >=
			    sizeof(out->enh) || strlcpy(out->text, r->text,
			    sizeof(out->text)) >= sizeof(out->text))
				fatalx("%s: reply too long", __func__);
			return;
		}
		fatalx("%s: action %d", __func__, (int)r->action);
	}
	*cursor = 0;
	if (rs->magic)
		(void)magic_check(stage, value, out);
}

/*
 * After a reload: give the new rule set nw the generator state of old and
 * the `times` counters of every rule of old whose canonical text equals
 * one of nw's (each rule of nw takes at most one rule of old, in order, so
 * duplicated rules pair up one to one).  nw's own counters are dropped;
 * counters keep their age order.  Returns the number of rules carried
 * over.  nw and old must differ; old is not changed and may be freed
 * afterwards.
 */
int
rules_reload(struct rules *nw, const struct rules *old)
{
	const struct rules_counter	*c;
	struct rules_counter		*nc;
	size_t				*map, i, j;
	unsigned char			*used;
	int				 kept = 0;

	if (nw == old)
		fatalx("%s: reloading a rule set into itself", __func__);
	memcpy(nw->prng, old->prng, sizeof(nw->prng));
	rules_counters_clear(nw);
	if (old->n == 0)
		return (0);
	map = xcalloc(old->n, sizeof(*map));
	used = xcalloc(nw->n + 1, 1);
	for (j = 0; j < old->n; j++) {
		map[j] = SIZE_MAX;
		for (i = 0; i < nw->n; i++) {
			if (!used[i] && strcmp(old->v[j].rule.canon,
			    nw->v[i].rule.canon) == 0) {
				map[j] = i;
				used[i] = 1;
				kept++;
				break;
			}
		}
	}
	for (c = old->oldest; c != NULL; c = c->newer) {
		if (map[c->rule] == SIZE_MAX)
			continue;
		nc = rules_counter_get(nw, map[c->rule], c->hash);
		nc->count = c->count;
	}
	free(used);
	free(map);
	return (kept);
}
