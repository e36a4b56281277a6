/*
 * envelope.h - the transaction record: sender, recipients and parameters.
 *
 * Pure core.  The session owns one envelope; the envelope owns its
 * recipients.  envelope_clear() is RSET: everything goes, storage too.
 */
#ifndef MAILSINK_ENVELOPE_H
#define MAILSINK_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "smtp_parse.h"

struct envelope_rcpt {
	char	*addr;			/* forward-path without brackets */
	int	 notify;		/* SMTP_NOTIFY_* or 0 */
	char	*orcpt;			/* ORCPT= as sent, or NULL */
};

struct envelope {
	int			 has_mail;	/* MAIL accepted */
	struct smtp_mail_args	 mail;		/* MAIL arguments as parsed */
	struct envelope_rcpt	*rcpts;		/* accepted recipients */
	size_t			 nrcpts;	/* used entries of rcpts */
	size_t			 rcpts_cap;	/* allocated entries */
	uint64_t		 size;		/* octets after unstuffing */
	int			 data_flags;	/* SMTP_DATA_* seen in body */
};

void	envelope_init(struct envelope *);
void	envelope_clear(struct envelope *);
void	envelope_set_mail(struct envelope *, const struct smtp_mail_args *);
void	envelope_add_rcpt(struct envelope *, const struct smtp_rcpt_args *);
char	*envelope_params_json(const struct envelope *);

#endif /* MAILSINK_ENVELOPE_H */
