/*
 * rules.h - reject-rule evaluation: (stage, value) to a verdict.
 *
 * Pure core.  A struct rules holds parsed rules in order, the counters
 * behind `times` and a pseudo-random generator for `probability`, seeded
 * by the caller so a run can be replayed.  rules_check() has exactly the
 * smtp_check_fn signature: the shell sets policy.check = rules_check and
 * policy.check_arg = the rules.  The built-in +smtpNNN addresses (magic.h)
 * are consulted after the rules when no rule fired.
 */
#ifndef MAILSINK_RULES_H
#define MAILSINK_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "rules_parse.h"
#include "smtp_session.h"

/* Most `times` counters kept; the oldest is dropped to make room. */
#define RULES_COUNTERS_MAX	100000

struct rules;

struct rules	*rules_new(uint64_t);
void		 rules_free(struct rules *);
int		 rules_add(struct rules *, const char *, const char *,
		     char **);
size_t		 rules_count(const struct rules *);
const struct rule *rules_get(const struct rules *, size_t);
const char	*rules_origin(const struct rules *, size_t);
void		 rules_set_magic(struct rules *, int);
void		 rules_set_counters_max(struct rules *, size_t);
size_t		 rules_counters(const struct rules *);
void		 rules_check(void *, enum smtp_stage, const char *,
		     smtp_header_fn, void *, int *, struct smtp_verdict *);
int		 rules_reload(struct rules *, const struct rules *);
int		 rules_glob(const char *, const char *);

#endif /* MAILSINK_RULES_H */
