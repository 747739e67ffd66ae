/* fixture.h - temporary directories for unit tests that touch files. */
#ifndef POSTERN_TESTS_FIXTURE_H
#define POSTERN_TESTS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns a new empty directory under $TMPDIR (static storage; one at a
 * time), or aborts: a test without its directory cannot mean anything. */
static inline const char *fixture_tmpdir(void)
{
	static char dir[256];
	const char *base = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/postern-unit-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(dir))
		abort();
	return dir;
}

/* "DIR/NAME" into a static buffer (one of four rotating ones). */
static inline const char *fixture_path(const char *dir, const char *name)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ & 3];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

/* Removes the directory and everything in it. */
static inline void fixture_rmdir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fixture: cannot remove %s\n", dir);
}

#endif
