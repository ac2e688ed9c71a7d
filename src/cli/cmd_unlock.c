#include "commands.h"

/* Not implemented yet: see the issue tracker. */
int cmd_unlock(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("'unlock' is not implemented yet");
	return EXIT_ERROR;
}
