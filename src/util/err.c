#include <stdio.h>
#include <string.h>

#include "cairn/err.h"

static const char *const code_names[] = {
#define ERRDEF(name, text) text,
#include "cairn/errors.def"
#undef ERRDEF
};

int err_vset(struct err *err, enum err_code code, const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	err->aws_code[0] = '\0';
	err->request_id[0] = '\0';
	err->http_status = 0;
	return -1;
}

int err_set(struct err *err, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int err_prefix(struct err *err, const char *fmt, ...)
{
	char prefix[512];
	char old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s%s", prefix, old);
	return -1;
}

void err_clear(struct err *err)
{
	if (!err)
		return;
	err->code = ERR_OK;
	err->msg[0] = '\0';
	err->aws_code[0] = '\0';
	err->request_id[0] = '\0';
	err->http_status = 0;
}

const char *err_code_name(enum err_code code)
{
	if ((unsigned)code >= ERR__COUNT)
		return "unknown";
	return code_names[code];
}
