#include "commands.h"

/* Not implemented yet: see the issue tracker. */
int cmd_plan(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("'plan' is not implemented yet");
	return EXIT_ERROR;
}
