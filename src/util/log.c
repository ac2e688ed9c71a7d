#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include "cairn/log.h"

static enum log_level current = LOG_WARN;
static const char *const names[] = { "error", "warn", "info", "debug",
				     "trace" };

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
}

void log_init_from_env(void)
{
	const char *v = getenv("CAIRN_LOG");
	unsigned i;

	if (!v)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(v, names[i]))
			current = (enum log_level)i;
}

int log_enabled(enum log_level level)
{
	return level <= current;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[8192];
	struct timeval tv;
	struct tm tm;
	int n;
	va_list ap;

	if (!log_enabled(level))
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %-5s ",
		     tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000),
		     names[level]);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* one fputs per line keeps lines from different threads whole */
	flockfile(stderr);
	fputs(line, stderr);
	fputc('\n', stderr);
	funlockfile(stderr);
}
