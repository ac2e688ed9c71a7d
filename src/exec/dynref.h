/*
 * Dynamic references at apply: the evaluated properties keep the
 * template's {{resolve:...}} text (strings marked dynref, see value.h);
 * just before a create or update call the executor makes a copy of the
 * properties with the values read from AWS (exec_opts.dynref), hands that
 * copy to the provider, and wipes it afterwards. The plaintext never
 * reaches the plan, the state, a log line or an error message.
 */
#ifndef CAIRN_EXEC_DYNREF_H
#define CAIRN_EXEC_DYNREF_H

#include "cairn/exec.h"
#include "cairn/value.h"

struct dynref_scratch {
	const _Atomic int *cancel; /* dynref_resolve's */
	struct arena *a; /* the resolved copy and every value read */
	const char **plain; /* each value read, for scrubbing messages */
	size_t n, cap;
};

/*
 * *out = props with every dynref string's references replaced by their
 * values (still marked sensitive) and then given the schema's scalar
 * types of `type` (a value read for an integer property becomes a
 * number, as evaluation does for the template's own strings), all in s->a.
 * props without dynref come back as they are (s stays empty). A read
 * answering "not found" is tried again for a bounded time (settle.h), which
 * *cancel (may be NULL) cuts short. -1 with err naming the property and
 * the reference, plus AWS's error code and request id.
 */
int dynref_resolve(exec_dynref_fn fn, void *ud, const _Atomic int *cancel,
		   const char *type,
		   const struct value *props,
		   struct dynref_scratch *s, const struct value **out,
		   struct err *err);
/* Replaces in err's message each value read with "(sensitive)" (an AWS
 * validation message may quote what it was sent). */
void dynref_scrub(const struct dynref_scratch *s, struct err *err);
/* Wipes and frees everything s holds. */
void dynref_release(struct dynref_scratch *s);

#endif
