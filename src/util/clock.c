#include <stdlib.h>
#include <time.h>

#include "cairn/clock.h"

double mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double env_seconds(const char *name, double dflt, double lo, double hi)
{
	const char *v = getenv(name);
	char *end;
	double d;

	if (!v || !*v)
		return dflt;
	d = strtod(v, &end);
	if (end == v || *end || !(d >= lo && d <= hi))
		return dflt;
	return d;
}
