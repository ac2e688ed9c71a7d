/*
 * arena: a bump allocator for per-run data (the parsed template, the graph,
 * the plan). Everything allocated from an arena is freed at once by
 * arena_free(); nothing in it is freed one by one. Not thread-safe: one
 * arena per thread or per owner.
 */
#ifndef CAIRN_ARENA_H
#define CAIRN_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

struct arena *arena_new(void);
void arena_free(struct arena *a); /* NULL is a no-op */
/* arena_free() after zeroing every byte handed out (an arena that held
 * secrets in clear: dynamic references' values at apply). */
void arena_free_wiped(struct arena *a);

/* Zeroed memory aligned for any type; aborts when out of memory. */
void *arena_alloc(struct arena *a, size_t n);
/* Grows an arena array (old contents copied; old block is not reused). */
void *arena_realloc(struct arena *a, void *old, size_t old_n, size_t new_n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_sprintf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Bytes handed out so far (for benchmarks and tests). */
size_t arena_used(const struct arena *a);

#endif
