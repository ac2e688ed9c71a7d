/* Eventual consistency: how long a read that answers "not found" for a
 * resource cairn created or changed recently is retried before it counts
 * as gone (src/exec/settle.c, docs/eventual-consistency.md). */
#ifndef CAIRN_EXEC_SETTLE_H
#define CAIRN_EXEC_SETTLE_H

#include <stdbool.h>

/* True when the UTC stamp ("2026-01-31T12:00:00.123Z", as the state
 * writes them) is within the recent window (CAIRN_SETTLE_RECENT_SECONDS,
 * default 300) of now, or cannot be parsed (the cautious answer). */
bool settle_recent(const char *stamp);

struct settle {
	double deadline; /* CLOCK_MONOTONIC seconds */
	double next_ms;  /* the next pause */
	int tries;
	const _Atomic int *cancel; /* optional: stop waiting when set */
};

/* Starts a bounded wait of CAIRN_SETTLE_SECONDS (default 20). */
void settle_start(struct settle *s, const _Atomic int *cancel);
/* Sleeps before the next read (backoff from 250 ms, doubling to 2 s);
 * false when the wait is over (deadline, cancel, or a 0-second window). */
bool settle_again(struct settle *s);

#endif
