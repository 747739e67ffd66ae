/* pool.h - fixed-size object pools: no allocation on the data path.
 *
 * A pool hands out objects of one size from slabs it allocates up front
 * and, when `max` allows, in further slabs as load grows. Freed objects go
 * back on a free list; slabs are released only by pool_destroy.
 * Not thread-safe: one pool per thread (or per device loop). */
#ifndef POSTERN_CORE_POOL_H
#define POSTERN_CORE_POOL_H

#include <stddef.h>

struct pool_slab;

struct pool {
	size_t obj_size;	/* rounded up to the alignment */
	size_t per_slab;
	size_t max;		/* objects in all; 0 = no limit */
	size_t total;		/* objects in existing slabs */
	size_t in_use;
	void *free_list;
	struct pool_slab *slabs;
};

/* Sets up a pool of `obj_size`-byte objects, allocating `prealloc` now.
 * Objects are 64-byte aligned. Returns 0 or -ENOMEM. */
int pool_init(struct pool *p, size_t obj_size, size_t prealloc, size_t max);
/* Releases every slab. Objects still out become invalid. */
void pool_destroy(struct pool *p);
/* Returns an object (contents undefined), or NULL when `max` is reached
 * or memory is short. The caller owns it until pool_put. */
void *pool_get(struct pool *p);
/* Gives an object from this pool back. */
void pool_put(struct pool *p, void *obj);

#endif
