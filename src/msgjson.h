/*
 * msgjson.h - JSON objects for stored messages and sessions (jansson).
 *
 * Shell.  The message object of CONTRACT "The program" (list --json and
 * show --json), built in one place so the CLI and the HTTP API agree.
 */
#ifndef MAILSINK_MSGJSON_H
#define MAILSINK_MSGJSON_H

#include <stddef.h>

#include <jansson.h>

struct store_msg;
struct store_sess;
struct mime_message;

json_t	*msgjson_summary(const struct store_msg *);
json_t	*msgjson_full(const struct store_msg *, const struct mime_message *);
json_t	*msgjson_session(const struct store_sess *);

#endif /* MAILSINK_MSGJSON_H */
