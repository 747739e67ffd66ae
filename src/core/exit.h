/* exit.h - the exit statuses of every `postern` subcommand.
 *
 * Scripts rely on these codes, so they are part of the interface. They
 * live at the bottom layer so that the daemons' subcommands (hub, agent,
 * acme) return them without including the CLI. */
#ifndef POSTERN_CORE_EXIT_H
#define POSTERN_CORE_EXIT_H

enum cmd_exit {
	CMD_EXIT_OK = 0,
	CMD_EXIT_FAIL = 1,	/* the operation failed */
	CMD_EXIT_USAGE = 2,	/* bad arguments */
	CMD_EXIT_NOTFOUND = 3,	/* the named object does not exist */
	CMD_EXIT_CONFLICT = 4,	/* exists already / changed underneath */
	CMD_EXIT_AUTH = 5,	/* not authorized */
	CMD_EXIT_UNAVAILABLE = 6, /* cannot reach the hub */
};

#endif
