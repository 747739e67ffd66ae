/* acme_cmd.h - the `postern acme` subcommand (src/acme/acme_cmd.c); returns a
 * CMD_EXIT_* status (core/exit.h). */
#ifndef POSTERN_ACME_ACME_CMD_H
#define POSTERN_ACME_ACME_CMD_H

int acme_cmd_main(int argc, char **argv);

#endif
