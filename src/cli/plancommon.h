/*
 * plancommon: the part of `plan`, `apply` and `destroy` that is the same
 * for all three: the template loaded, evaluated, checked and graphed (its
 * diagnostics printed), its digest, the state path, the state opened and
 * locked, checked to belong to this stack, and the plan binding
 * (template digest, parameters, state serial) filled in. Building the plan
 * itself stays with each command: plan reads AWS into a snapshot, apply
 * refreshes the real state, destroy deletes everything recorded.
 *
 * Every error is printed here (cli_error / diagnostics), so a caller that
 * gets -1 only has to exit 1.
 */
#ifndef CAIRN_CLI_PLANCOMMON_H
#define CAIRN_CLI_PLANCOMMON_H

#include <stdbool.h>

#include "cairn/diag.h"
#include "cairn/plan.h"
#include "cairn/state.h"
#include "stateopts.h"
#include "tmplopts.h"

struct plancommon {
	struct tmpl_run run;    /* in the arena given to plancommon_prepare */
	struct diag_list diags; /* the template's warnings (already printed) */
	const char *digest;     /* "sha256:<hex>" of the template, in the arena */
	char *state_path;       /* owned */
	/* NULL when the state does not exist and open_flags lacked
	 * STATE_OPEN_CREATE */
	struct state *st;
	struct state_handle sh; /* where st lives (a remote state's upload) */
	struct plan_binding b;
};

/*
 * Runs the shared sequence. open_flags go to state_open (a missing state
 * without STATE_OPEN_CREATE is not an error: pc->st stays NULL); the state
 * is locked when lock is true, with lock_command naming the holder.
 * Returns 0, or -1 after printing the error. Call plancommon_release()
 * either way.
 */
int plancommon_prepare(struct plancommon *pc, const struct tmplopts *to,
		       const struct stateopts *so, struct arena *a,
		       int open_flags, bool lock, const char *lock_command);

/* Releases the lock, closes the state (a remote state's last upload),
 * frees. -1 after printing an error when the state could not be saved. */
int plancommon_release(struct plancommon *pc);

#endif
