#include "commands.h"

/* Not implemented yet: see the issue tracker. */
int cmd_state(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("'state' is not implemented yet");
	return EXIT_ERROR;
}
