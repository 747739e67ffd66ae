/* dlist.h - intrusive doubly linked lists: the one push and unlink.
 *
 * An element is any struct with `next` and `prev` pointers to its own
 * type; the list is a head pointer the owner keeps (NULL = empty). The
 * macros only relink: who allocates and frees the elements, and any count
 * beside the list, stay the caller's. */
#ifndef POSTERN_CORE_DLIST_H
#define POSTERN_CORE_DLIST_H

/* Puts `n` (not on any list) first on the list whose head is `head`. */
#define DLIST_PUSH(head, n)                                                  \
	do {                                                                 \
		(n)->prev = NULL;                                            \
		(n)->next = (head);                                          \
		if (head)                                                    \
			(head)->prev = (n);                                  \
		(head) = (n);                                                \
	} while (0)

/* Takes `n` off the list whose head is `head`; n's own next/prev are left
 * as they were (reset them if n may be pushed again). */
#define DLIST_UNLINK(head, n)                                                \
	do {                                                                 \
		if ((n)->prev)                                               \
			(n)->prev->next = (n)->next;                         \
		else                                                         \
			(head) = (n)->next;                                  \
		if ((n)->next)                                               \
			(n)->next->prev = (n)->prev;                         \
	} while (0)

#endif
