/*
 * xalloc: allocation that aborts on failure, so callers need no
 * out-of-memory branches (redis' zmalloc, git's xmalloc).
 */
#ifndef CAIRN_XALLOC_H
#define CAIRN_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Grows *items so that it holds at least `need` elements of `size` bytes. */
#define ALLOC_GROW(items, need, cap)                                         \
	do {                                                                 \
		if ((need) > (cap)) {                                        \
			size_t alloc_grow_n_ = (cap) ? (cap) * 2 : 8;        \
			while (alloc_grow_n_ < (need))                       \
				alloc_grow_n_ *= 2;                          \
			(items) = xrealloc((items),                          \
					   alloc_grow_n_ * sizeof(*(items))); \
			(cap) = alloc_grow_n_;                               \
		}                                                            \
	} while (0)

#endif
