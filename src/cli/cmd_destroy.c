#include "commands.h"

/* Not implemented yet: see the issue tracker. */
int cmd_destroy(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("'destroy' is not implemented yet");
	return EXIT_ERROR;
}
