/*
 * fuzz_rules_parse.c - libFuzzer target for the rule grammar
 * (rules_parse) and rule evaluation (rules, netaddr, magic).
 *
 * Input: byte 0 seeds the rules' generator; the rest is split at LF into
 * lines, each one the text of a `rule` directive.  Every line is parsed
 * with rules_parse_line(): an error must name a column inside the line,
 * and a rule must read back from its canonical text to the same
 * canonical text (rules_reload() relies on it).  The rules that parse go
 * into a rule set, which is then asked about every stage with every line
 * as the value (a client address, a HELO name, an address...), with the
 * lines that look like "Name: value" as the message's headers, following
 * delay verdicts as the session does.  A second set with the same rules
 * in reverse order takes over the first's counters with rules_reload()
 * and is asked again.  Verdicts must be what the grammar allows, and the
 * glob matcher must agree with a plain dynamic-programming matcher on
 * ASCII text.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "log.h"
#include "rules.h"
#include "rules_parse.h"

#define FUZZ_RULES_LINES_MAX	64	/* lines looked at per input */
#define FUZZ_RULES_GLOB_MAX	64	/* longest text for the glob check */

/* The input cut into lines. */
struct fuzz_rules_input {
	char	*lines[FUZZ_RULES_LINES_MAX];
	size_t	 n;
};

/* The header hook: "Name: value" lines of the input are the headers. */
static const char *
fuzz_rules_header(void *arg, const char *name)
{
	const struct fuzz_rules_input	*in = arg;
	size_t				 i, len = strlen(name);
	const char			*v;

	for (i = 0; i < in->n; i++) {
		if (strncasecmp(in->lines[i], name, len) != 0 ||
		    in->lines[i][len] != ':')
			continue;
		v = in->lines[i] + len + 1;
		return (v + strspn(v, " \t"));
	}
	return (NULL);
}

/* Glob matching as a table: does p[0..pn) match s[0..sn)? ASCII only. */
static int
fuzz_rules_glob_ref(const char *p, const char *s)
{
	unsigned char	 m[FUZZ_RULES_GLOB_MAX + 1][FUZZ_RULES_GLOB_MAX + 1];
	size_t		 pn = strlen(p), sn = strlen(s), i, j;

	/* m[i][j]: p[i..] matches s[j..]. */
	for (i = pn + 1; i-- > 0;) {
		for (j = sn + 1; j-- > 0;) {
			if (i == pn)
				m[i][j] = j == sn;
			else if (p[i] == '*')
				m[i][j] = m[i + 1][j] ||
				    (j < sn && m[i][j + 1]);
			else if (j == sn)
				m[i][j] = 0;
			else if (p[i] == '?')
				m[i][j] = m[i + 1][j + 1];
			else
				m[i][j] = tolower((unsigned char)p[i]) ==
				    tolower((unsigned char)s[j]) &&
				    m[i + 1][j + 1];
		}
	}
	return (m[0][0]);
}

static int
fuzz_rules_ascii(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return (0);
	}
	return (1);
}

/* Parse one line; check the error or the canonical text's round trip. */
static void
fuzz_rules_parse(const char *line)
{
	struct rule	 r, again;
	char		*cause = NULL, *end;
	unsigned long	 col;

	if (rules_parse_line(line, &r, &cause) == -1) {
		FUZZ_ASSERT(cause != NULL && strncmp(cause, "col ", 4) == 0,
		    "error '%s'", cause != NULL ? cause : "(null)");
		col = strtoul(cause + 4, &end, 10);
		FUZZ_ASSERT(col >= 1 && col <= strlen(line) + 1 &&
		    strncmp(end, ": ", 2) == 0, "error '%s' for %zu bytes",
		    cause, strlen(line));
		free(cause);
		return;
	}
	FUZZ_ASSERT(r.canon != NULL, "no canonical text");
	if (r.action == RULE_ACT_REPLY) {
		FUZZ_ASSERT(r.code >= 400 && r.code <= 599, "code %d",
		    r.code);
		FUZZ_ASSERT(r.enh[0] == '\0' || r.enh[0] == '0' + r.code / 100,
		    "enhanced code %s for %d", r.enh, r.code);
		FUZZ_ASSERT(r.text != NULL && strlen(r.text) <=
		    RULES_PARSE_TEXT_MAX, "reply text");
	}
	if (r.action == RULE_ACT_DELAY)
		FUZZ_ASSERT(r.delay_ms <= RULES_PARSE_DELAY_MAX, "delay %llu",
		    (unsigned long long)r.delay_ms);
	if (r.has_probability)
		FUZZ_ASSERT(r.probability >= 0 && r.probability <= 1,
		    "probability %g", r.probability);
	FUZZ_ASSERT(r.times <= RULES_PARSE_TIMES_MAX, "times %llu",
	    (unsigned long long)r.times);

	if (strlen(r.canon) <= RULES_PARSE_LINE_MAX) {
		cause = NULL;
		FUZZ_ASSERT(rules_parse_line(r.canon, &again, &cause) == 0,
		    "canonical '%s' of '%s' does not parse: %s", r.canon, line,
		    cause);
		FUZZ_ASSERT(strcmp(r.canon, again.canon) == 0, "canonical"
		    " '%s' reads back as '%s'", r.canon, again.canon);
		rules_parse_clear(&again);
	}
	if (r.glob != NULL && r.match == RULE_MATCH_GLOB &&
	    strlen(r.glob) <= FUZZ_RULES_GLOB_MAX &&
	    fuzz_rules_ascii(r.glob) && strlen(line) <= FUZZ_RULES_GLOB_MAX &&
	    fuzz_rules_ascii(line))
		FUZZ_ASSERT(rules_glob(r.glob, line) ==
		    fuzz_rules_glob_ref(r.glob, line), "glob '%s' on '%s'"
		    " gives %d", r.glob, line, rules_glob(r.glob, line));
	rules_parse_clear(&r);
}

/* A verdict must be one the rules and magic addresses can give. */
static void
fuzz_rules_verdict(const struct smtp_verdict *v)
{
	switch (v->kind) {
	case SMTP_VERDICT_PASS:
	case SMTP_VERDICT_DISCONNECT:
		break;
	case SMTP_VERDICT_REPLY:
		FUZZ_ASSERT(v->code >= 400 && v->code <= 599, "code %d",
		    v->code);
		FUZZ_ASSERT(memchr(v->enh, '\0', sizeof(v->enh)) != NULL &&
		    memchr(v->text, '\0', sizeof(v->text)) != NULL,
		    "verdict strings not terminated");
		break;
	case SMTP_VERDICT_DELAY:
		FUZZ_ASSERT(v->delay_ms <= RULES_PARSE_DELAY_MAX, "delay %llu",
		    (unsigned long long)v->delay_ms);
		break;
	default:
		FUZZ_ASSERT(0, "verdict kind %d", (int)v->kind);
	}
}

/* Ask rs about every stage with every line, following delays. */
static void
fuzz_rules_ask(struct rules *rs, struct fuzz_rules_input *in)
{
	struct smtp_verdict	 v;
	size_t			 i, n;
	int			 stage, cursor;

	for (i = 0; i < in->n; i++) {
		for (stage = SMTP_STAGE_CONNECT; stage <= SMTP_STAGE_DATA;
		    stage++) {
			cursor = 0;
			for (n = 0; n <= rules_count(rs) + 1; n++) {
				rules_check(rs, (enum smtp_stage)stage,
				    stage == SMTP_STAGE_DATA ? "" :
				    in->lines[i], stage == SMTP_STAGE_DATA ?
				    fuzz_rules_header : NULL, in, &cursor, &v);
				fuzz_rules_verdict(&v);
				if (v.kind != SMTP_VERDICT_DELAY)
					break;
				FUZZ_ASSERT(cursor > 0 && (size_t)cursor <=
				    rules_count(rs), "cursor %d after a delay",
				    cursor);
			}
			FUZZ_ASSERT(n <= rules_count(rs), "%zu delays from %zu"
			    " rules", n, rules_count(rs));
			FUZZ_ASSERT(cursor == 0 || v.kind == SMTP_VERDICT_DELAY,
			    "cursor %d left after verdict %d", cursor,
			    (int)v.kind);
		}
	}
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
	struct fuzz_rules_input	 in;
	struct rules		*rs, *rs2;
	char			*text, *p, *nl, *cause;
	size_t			 i;
	int			 kept;

	if (size < 1)
		return (0);
	text = fuzz_strdup(data + 1, size - 1);
	memset(&in, 0, sizeof(in));
	for (p = text; p != NULL && in.n < FUZZ_RULES_LINES_MAX; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		in.lines[in.n++] = p;
	}

	rs = rules_new(data[0]);
	rs2 = rules_new(data[0] ^ 0xff);
	rules_set_magic(rs, data[0] & 1);
	rules_set_magic(rs2, 1);
	rules_set_counters_max(rs, 1 + data[0] % 4);
	for (i = 0; i < in.n; i++) {
		fuzz_rules_parse(in.lines[i]);
		cause = NULL;
		if (rules_add(rs, in.lines[i], "fuzz:1", &cause) == -1) {
			FUZZ_ASSERT(cause != NULL, "rules_add: no cause");
			free(cause);
		}
	}
	for (i = in.n; i-- > 0;) {
		cause = NULL;
		if (rules_add(rs2, in.lines[i], NULL, &cause) == -1)
			free(cause);
	}
	FUZZ_ASSERT(rules_count(rs) == rules_count(rs2), "%zu rules and %zu",
	    rules_count(rs), rules_count(rs2));

	fuzz_rules_ask(rs, &in);
	FUZZ_ASSERT(rules_counters(rs) <= 1 + (size_t)data[0] % 4,
	    "%zu counters kept", rules_counters(rs));
	kept = rules_reload(rs2, rs);
	FUZZ_ASSERT(kept >= 0 && (size_t)kept <= rules_count(rs), "kept %d",
	    kept);
	rules_free(rs);
	fuzz_rules_ask(rs2, &in);
	rules_free(rs2);
	free(text);
	return (0);
}
