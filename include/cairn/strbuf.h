/*
 * strbuf: a growable string, after git's strbuf. `buf` is never NULL and
 * always NUL-terminated; it replaces strcpy/strcat/sprintf.
 */
#ifndef CAIRN_STRBUF_H
#define CAIRN_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { strbuf_slopbuf, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* Hands the buffer to the caller (free() it); sb is left empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_reset(struct strbuf *sb);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
/* w as one word of a POSIX shell command line: as is when it holds only
 * characters no shell treats specially, else in single quotes */
void strbuf_add_shell_word(struct strbuf *sb, const char *w);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Appends s as a JSON string literal, quotes included. */
void strbuf_add_json_str(struct strbuf *sb, const char *s, size_t len);

/* Reads a whole file; -1 with errno set on failure. max == 0: no cap;
 * a file larger than max fails with errno EFBIG. */
int strbuf_read_file(struct strbuf *sb, const char *path, size_t max);

#endif
