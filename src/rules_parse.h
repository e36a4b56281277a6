/*
 * rules_parse.h - the reject-rule grammar: one line of text to a struct
 * rule (CONTRACT "Reject rules").
 *
 * Pure core.  The text is what follows the "rule" keyword of the config
 * file, or the value of --rule:
 *
 *	STAGE MATCH ACTION [probability P] [times N]
 *
 * Errors come back as "col N: problem 'word'", N counting from 1 in the
 * text given; the caller prefixes the file and line.
 */
#ifndef MAILSINK_RULES_PARSE_H
#define MAILSINK_RULES_PARSE_H

#include <stdint.h>

#include "netaddr.h"
#include "smtp_session.h"

#define RULES_PARSE_TEXT_MAX	200	/* reply TEXT, in bytes */
#define RULES_PARSE_DELAY_MAX	600000	/* delay in ms: 10 minutes */
#define RULES_PARSE_TIMES_MAX	1000000	/* times N */
#define RULES_PARSE_LINE_MAX	4096	/* whole rule, in bytes */

enum rule_match {
	RULE_MATCH_ANY = 0,	/* "*" (any stage) */
	RULE_MATCH_GLOB,	/* helo/auth/mail/rcpt: glob on the value */
	RULE_MATCH_NET,		/* connect: address or CIDR */
	RULE_MATCH_HEADER	/* data: HEADER=GLOB */
};

enum rule_action {
	RULE_ACT_REPLY = 0,	/* reply CODE [X.Y.Z] "TEXT" */
	RULE_ACT_DISCONNECT,	/* close without a reply */
	RULE_ACT_DELAY,		/* pause, then try the next rules */
	RULE_ACT_ACCEPT		/* stop evaluating: the normal path */
};

struct rule {
	enum smtp_stage	 stage;
	enum rule_match	 match;
	char		*glob;	/* GLOB, HEADER: pattern, lowered */
	char		*header; /* HEADER: header name as written */
	struct netaddr	 net;	/* NET */
	enum rule_action action;
	int		 code;	/* REPLY: 400..599 */
	char		 enh[16]; /* REPLY: "X.Y.Z" or "" */
	char		*text;	/* REPLY: unescaped reply text */
	uint64_t	 delay_ms; /* DELAY */
	int		 has_probability;
	double		 probability; /* 0..1, if has_probability */
	uint64_t	 times;	/* 0: no limit */
	char		*canon;	/* canonical text: the same for rules
				   that mean the same (for reload) */
};

int	rules_parse_line(const char *, struct rule *, char **);
void	rules_parse_clear(struct rule *);

#endif /* MAILSINK_RULES_PARSE_H */
