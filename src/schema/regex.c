/*
 * The registry schemas' `pattern`s and patternProperties keys, run with
 * PCRE2 as written.
 *
 * The patterns are ECMA-262 regular expressions; CloudFormation's handlers
 * check them with Java's java.util.regex. Both agree on everything the
 * schemas use, and PCRE2 gets the same answers with these options:
 *   - PCRE2_UTF: the subject and the pattern are UTF-8, `.` and classes
 *     match code points (so "é" is one character, and \p{L} knows it);
 *   - no PCRE2_UCP: \d \w \s stay ASCII, as in ECMA-262 without the u flag
 *     and in Java by default (an IAM name "éé" fails [\w+=,.@-]+ in AWS);
 *     Unicode properties (\p{L}, \p{N}, \p{Z}, \P{..}) are Unicode anyway;
 *   - PCRE2_ALT_BSUX: \uXXXX is a code point and \x takes two hex digits,
 *     as in ECMA-262;
 *   - PCRE2_DOLLAR_ENDONLY: `$` is the very end of the value, not also the
 *     place before a final newline.
 * Lookarounds, lazy quantifiers, backreferences and \b need nothing
 * special. Matching is a search (unanchored unless the pattern anchors
 * itself), as in JSON Schema.
 *
 * Each distinct pattern is compiled once per process, on its first use
 * (most commands touch few types), JIT-compiled when PCRE2 has a JIT, and
 * kept in a process-wide cache that every schema type and thread shares;
 * a compiled pattern is read-only, so threads match it at once. A pattern
 * PCRE2 rejects is never checked (no false error, no crash);
 * tests/unit/schema checks that every pattern in schemas/ compiles.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/xalloc.h"
#include "internal.h"

#define RX_OPTIONS (PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY)
/* a bound on backtracking: a pathological value gets "cannot tell" (and is
 * let through) in milliseconds instead of hanging validation */
#define RX_MATCH_LIMIT 1000000
#define RX_BUCKETS 256

struct rx_entry {
	struct rx_entry *next;
	char *src;
	pcre2_code *code; /* NULL: PCRE2 rejected the pattern */
	char msg[160];    /* why, when code is NULL */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rx_entry *cache[RX_BUCKETS];
static pcre2_match_context *match_ctx;
static int have_jit = -1;

static size_t hash_src(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % RX_BUCKETS;
}

static void compile_entry(struct rx_entry *e)
{
	int code;
	PCRE2_SIZE off;

	e->code = pcre2_compile((PCRE2_SPTR)e->src, PCRE2_ZERO_TERMINATED,
				RX_OPTIONS, &code, &off, NULL);
	if (!e->code) {
		PCRE2_UCHAR buf[120];
		pcre2_get_error_message(code, buf, sizeof(buf));
		snprintf(e->msg, sizeof(e->msg), "at offset %zu: %s",
			 (size_t)off, (const char *)buf);
		return;
	}
	if (have_jit < 0) {
		uint32_t jit = 0;
		pcre2_config(PCRE2_CONFIG_JIT, &jit);
		have_jit = jit ? 1 : 0;
	}
	/* without JIT (or if it fails) the interpreter gives the same answers */
	if (have_jit)
		(void)pcre2_jit_compile(e->code, PCRE2_JIT_COMPLETE);
}

/* The cache entry of src, compiled on first request. */
static const struct rx_entry *rx_get(const char *src)
{
	size_t h = hash_src(src);
	struct rx_entry *e;

	pthread_mutex_lock(&cache_lock);
	for (e = cache[h]; e; e = e->next)
		if (!strcmp(e->src, src))
			break;
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		e->src = xstrdup(src);
		compile_entry(e);
		e->next = cache[h];
		cache[h] = e;
	}
	if (!match_ctx) {
		match_ctx = pcre2_match_context_create(NULL);
		if (!match_ctx)
			abort(); /* allocation failure: as xmalloc */
		pcre2_set_match_limit(match_ctx, RX_MATCH_LIMIT);
	}
	pthread_mutex_unlock(&cache_lock);
	return e;
}

void schema_regex_init(struct sregex *r, const char *src)
{
	r->src = src;
	atomic_init(&r->compiled, NULL);
}

static const struct rx_entry *entry_of(const struct sregex *r)
{
	struct sregex *w = (struct sregex *)r; /* the cache pointer only */
	const struct rx_entry *e =
		atomic_load_explicit(&w->compiled, memory_order_acquire);

	if (!e) {
		e = rx_get(r->src);
		atomic_store_explicit(&w->compiled, e, memory_order_release);
	}
	return e;
}

bool schema_regex_ok(const struct sregex *r)
{
	return entry_of(r)->code != NULL;
}

int schema_regex_check(const char *src, char *msg, size_t n)
{
	const struct rx_entry *e = rx_get(src);

	if (e->code)
		return 0;
	if (msg && n)
		snprintf(msg, n, "%s", e->msg);
	return -1;
}

bool schema_regex_match(const struct sregex *r, const char *s)
{
	const struct rx_entry *e = entry_of(r);
	pcre2_match_data *md;
	int rc;

	if (!e->code)
		return true;
	md = pcre2_match_data_create(1, NULL);
	if (!md)
		abort();
	rc = pcre2_match(e->code, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md,
			 match_ctx);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return true;
	if (rc == PCRE2_ERROR_NOMATCH)
		return false;
	/* not UTF-8 (the loader rejects that first): no pattern matches it */
	if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
		return false;
	/* a match or depth limit: cairn cannot tell, AWS will */
	return true;
}

size_t schema_utf8_len(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}
