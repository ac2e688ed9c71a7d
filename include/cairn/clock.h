/*
 * clock: the monotonic time every deadline and duration is measured on, and
 * the duration knobs read from the environment (CAIRN_*_SECONDS).
 */
#ifndef CAIRN_CLOCK_H
#define CAIRN_CLOCK_H

/* Seconds on CLOCK_MONOTONIC: never steps back when the wall clock is set,
 * so deadlines computed from it hold. Meaningful only as differences. */
double mono_seconds(void);

/* The number of seconds in environment variable name; dflt when it is
 * unset, empty, not a whole number or decimal, or outside [lo, hi]. */
double env_seconds(const char *name, double dflt, double lo, double hi);

#endif
