/*
 * err: the error value every fallible function fills.
 *
 * A function that can fail returns 0 on success and -1 (or NULL) on failure,
 * and fills the `struct err *` passed as its last parameter. The code comes
 * from one table (src/util/errors.def) so callers decide on codes, never on
 * message text. AWS failures also carry the AWS error code, the HTTP status
 * and the request id.
 *
 * Messages are lowercase, without a final period, with the subject quoted.
 * Callers add context with err_prefix() instead of printing.
 */
#ifndef CAIRN_ERR_H
#define CAIRN_ERR_H

#include <stdarg.h>

enum err_code {
#define ERRDEF(name, text) ERR_##name,
#include "errors.def"
#undef ERRDEF
	ERR__COUNT
};

struct err {
	enum err_code code;
	char msg[2048];
	/* set for AWS failures; empty strings otherwise */
	char aws_code[128];
	char request_id[128];
	int http_status;
};

#define ERR_INIT { ERR_OK, "", "", "", 0 }

/* Sets code and message; returns -1 so that `return err_set(...)` reads well. */
int err_set(struct err *err, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int err_vset(struct err *err, enum err_code code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Prepends context ("subnet \"A\": ") to the message; returns -1. */
int err_prefix(struct err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Resets to ERR_OK with empty strings. err may be NULL. */
void err_clear(struct err *err);

/* The short name of a code ("not_found"); static storage. */
const char *err_code_name(enum err_code code);

#endif
