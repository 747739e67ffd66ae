/* pool.c - slab-backed free-list pools. */
#include "core/pool.h"

#include <errno.h>
#include <stdlib.h>

#define POOL_ALIGN 64

/* Under ASan, objects on the free list are poisoned (but the link word),
 * so a use after pool_put is reported like a use after free(). */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POOL_POISON(p, n) ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct pool_slab {
	struct pool_slab *next;
	size_t n;		/* objects in this slab */
};

static int pool_grow(struct pool *p, size_t n)
{
	struct pool_slab *slab;
	unsigned char *base;

	if (p->max && p->total + n > p->max)
		n = p->max - p->total;
	if (n == 0)
		return -ENOBUFS;
	if (posix_memalign((void **)&slab, POOL_ALIGN,
			   POOL_ALIGN + n * p->obj_size) != 0)
		return -ENOMEM;
	slab->next = p->slabs;
	slab->n = n;
	p->slabs = slab;
	base = (unsigned char *)slab + POOL_ALIGN;
	for (size_t i = 0; i < n; i++) {
		void **obj = (void **)(base + i * p->obj_size);
		*obj = p->free_list;
		p->free_list = obj;
		POOL_POISON((char *)obj + sizeof(void *), p->obj_size - sizeof(void *));
	}
	p->total += n;
	return 0;
}

int pool_init(struct pool *p, size_t obj_size, size_t prealloc, size_t max)
{
	p->obj_size = ((obj_size > sizeof(void *) ? obj_size : sizeof(void *)) + POOL_ALIGN - 1) &
		      ~(size_t)(POOL_ALIGN - 1);
	p->per_slab = prealloc ? prealloc : 64;
	p->max = max;
	p->total = p->in_use = 0;
	p->free_list = NULL;
	p->slabs = NULL;
	return prealloc ? pool_grow(p, prealloc) : 0;
}

void pool_destroy(struct pool *p)
{
	while (p->slabs) {
		POOL_UNPOISON(p->slabs, POOL_ALIGN + p->slabs->n * p->obj_size);
		struct pool_slab *next = p->slabs->next;
		free(p->slabs);
		p->slabs = next;
	}
	p->free_list = NULL;
	p->total = p->in_use = 0;
}

void *pool_get(struct pool *p)
{
	void **obj;

	if (!p->free_list && pool_grow(p, p->per_slab) < 0)
		return NULL;
	obj = p->free_list;
	p->free_list = *obj;
	p->in_use++;
	POOL_UNPOISON(obj, p->obj_size);
	return obj;
}

void pool_put(struct pool *p, void *obj)
{
	*(void **)obj = p->free_list;
	p->free_list = obj;
	p->in_use--;
	POOL_POISON((char *)obj + sizeof(void *), p->obj_size - sizeof(void *));
}
