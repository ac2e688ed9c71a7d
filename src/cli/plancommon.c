/* The template -> state -> binding sequence of plan, apply and destroy;
 * see plancommon.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plancommon.h"

int plancommon_prepare(struct plancommon *pc, const struct tmplopts *to,
		       const struct stateopts *so, struct arena *a,
		       int open_flags, bool lock, const char *lock_command)
{
	struct err err = ERR_INIT;

	memset(pc, 0, sizeof(*pc));
	pc->diags = (struct diag_list)DIAG_LIST_INIT;
	if (tmplopts_run(to, a, false, &pc->run, &pc->diags, &err) < 0) {
		tmplopts_print_diags(&pc->diags, stderr);
		if (!pc->diags.errors)
			cli_error("%s", err.msg);
		return -1;
	}
	if (pc->diags.errors) {
		tmplopts_print_diags(&pc->diags, stderr);
		fprintf(stderr, "%s: %zu error%s\n", to->template_path,
			pc->diags.errors, pc->diags.errors == 1 ? "" : "s");
		return -1;
	}
	if (pc->diags.n) /* warnings only */
		tmplopts_print_diags(&pc->diags, stderr);
	pc->digest = plan_digest_file(a, to->template_path, &err);
	if (!pc->digest) {
		cli_error("%s", err.msg);
		return -1;
	}
	pc->state_path = stateopts_path(so, pc->run.ctx.stack_name,
					to->template_path, &err);
	if (!pc->state_path) {
		cli_error("%s", err.msg);
		return -1;
	}
	/* a remote state: plan reads a snapshot without its lock object;
	 * apply and destroy lock it and upload their changes */
	pc->st = stateopts_open(so, pc->state_path, open_flags,
				lock && !so->read_only ?
					STATEOPTS_LOCK | STATEOPTS_WRITABLE : 0,
				lock_command, &pc->sh, &err);
	if (!pc->st && !(err.code == ERR_NOT_FOUND &&
			 !(open_flags & STATE_OPEN_CREATE))) {
		cli_error("%s", err.msg);
		return -1;
	}
	err_clear(&err);
	if (pc->st && lock) {
		struct state_lock_opts lo;
		memset(&lo, 0, sizeof(lo));
		lo.wait = so->lock_timeout;
		lo.command = lock_command;
		if (state_lock_acquire(pc->st, &lo, &err) < 0) {
			cli_error("%s", err.msg);
			return -1;
		}
	}

	pc->b.stack = pc->run.ctx.stack_name;
	pc->b.template_path = to->template_path;
	pc->b.template_digest = pc->digest;
	pc->b.params = pc->run.stack->params;
	pc->b.state_path = pc->state_path;
	pc->b.state_exists = pc->st != NULL;
	if (pc->st) {
		struct state_stack ss;
		if (state_stack_get(pc->st, a, &ss, &err) < 0) {
			cli_error("%s", err.msg);
			return -1;
		}
		/* a state of another stack would plan to destroy all of it */
		if (ss.name && *ss.name &&
		    strcmp(ss.name, pc->run.ctx.stack_name)) {
			cli_error("state '%s' belongs to stack \"%s\", not \"%s\" "
				  "(use --stack %s, or another --state)",
				  pc->state_path, ss.name,
				  pc->run.ctx.stack_name, ss.name);
			return -1;
		}
		pc->b.state_serial = ss.serial;
	}
	return 0;
}

int plancommon_release(struct plancommon *pc)
{
	struct err e3 = ERR_INIT;
	int rc = 0;

	if (pc->st) {
		struct err e2 = ERR_INIT;
		if (state_lock_id(pc->st) && state_lock_release(pc->st, &e2) < 0)
			cli_error("%s", e2.msg);
	}
	if (stateopts_close(&pc->sh, pc->st, &e3) < 0) {
		cli_error("%s", e3.msg);
		rc = -1;
	}
	pc->st = NULL;
	free(pc->state_path);
	pc->state_path = NULL;
	diag_list_release(&pc->diags);
	return rc;
}
