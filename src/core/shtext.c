/* shtext.c - a text replaced by one thread, copied by others (shtext.h). */
#include "core/shtext.h"

#include <errno.h>

void shtext_replace(struct shtext *t, struct buf *b)
{
	struct buf old;

	pthread_mutex_lock(&t->lock);
	old = t->text;
	t->text = *b;
	pthread_mutex_unlock(&t->lock);
	buf_free(&old);
	buf_init(b, b->max);
}

int shtext_append_to(struct shtext *t, struct buf *out)
{
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	if (t->text.len)
		rc = buf_append(out, buf_head(&t->text), t->text.len);
	pthread_mutex_unlock(&t->lock);
	return rc ? -ENOBUFS : 0;
}

void shtext_clear(struct shtext *t)
{
	pthread_mutex_lock(&t->lock);
	buf_free(&t->text);
	pthread_mutex_unlock(&t->lock);
}
