#include "commands.h"

/* cairn destroy TEMPLATE: see cmd_apply.c, which does both. */
int cmd_destroy(int argc, char **argv)
{
	return cmd_apply_or_destroy(argc, argv, true);
}
