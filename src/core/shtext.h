/* shtext.h - a text one thread replaces whole and other threads copy
 * out, such as a subsystem's metrics rendered on the control loop and
 * read when /metrics is scraped. A mutex guards the swap and the copy;
 * neither is on a request path. */
#ifndef POSTERN_CORE_SHTEXT_H
#define POSTERN_CORE_SHTEXT_H

#include <pthread.h>

#include "core/buf.h"

struct shtext {
	pthread_mutex_t lock;
	struct buf text;
};

#define SHTEXT_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

/* Takes `b`'s bytes as the new text (b is left empty; the old text is
 * freed). */
void shtext_replace(struct shtext *t, struct buf *b);
/* Appends a copy of the current text to out. Returns 0 or -ENOBUFS. */
int shtext_append_to(struct shtext *t, struct buf *out);
/* Frees the text. */
void shtext_clear(struct shtext *t);

#endif
