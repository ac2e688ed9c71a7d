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
 *   - PCRE2_ALT_BSUX (and its EXTRA_ form): \uXXXX and \u{...} are code
 *     points and \x takes two hex digits, as in ECMA-262;
 *   - PCRE2_DOLLAR_ENDONLY: `$` is the very end of the value, not also the
 *     place before a final newline.
 *   - PCRE2_ALLOW_EMPTY_CLASS: `[]` matches nothing and `[^]` anything.
 * Lookarounds, lazy quantifiers, backreferences and \b need nothing
 * special. Matching is a search (unanchored unless the pattern anchors
 * itself), as in JSON Schema.
 *
 * A few constructs of the registry's 1600 schemas are read differently by
 * PCRE2 than by ECMA-262 and Java, and are adapted before compiling:
 *   - Java's POSIX properties \p{Print}, \p{Graph}, \p{Alpha} ... (ASCII
 *     in Java) become PCRE2's ASCII [:print:], [:graph:] ... classes;
 *   - in a class, a `-` next to \w, \d, \s or \p{..} is a literal
 *     hyphen (ECMA-262 Annex B, Java), not a range;
 *   - in a class, UTF-16 surrogates (\uD800-\uDFFF, which those patterns
 *     use to admit characters beyond U+FFFF as surrogate pairs) become the
 *     code points U+10000-U+10FFFF;
 *   - a pattern PCRE2 finds too large to compile ({1,900} of an
 *     alternation) is retried with such bounds lifted (lenient, never a
 *     false error).
 * What is still rejected is wrong in ECMA-262 too (a quantifier after `$`,
 * an unterminated class): such a pattern is never checked.
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

#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "internal.h"

#define RX_OPTIONS                                                            \
	(PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY |                  \
	 PCRE2_ALLOW_EMPTY_CLASS)
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

/* ---- adapting ECMA-262 / Java constructs PCRE2 reads otherwise ---- */

/* Java's POSIX character properties, all ASCII */
static const char *posix_class(const char *name, size_t n)
{
	static const char *const map[][2] = {
		{ "Lower", "lower" }, { "Upper", "upper" }, { "ASCII", "ascii" },
		{ "Alpha", "alpha" }, { "Digit", "digit" }, { "Alnum", "alnum" },
		{ "Punct", "punct" }, { "Graph", "graph" }, { "Print", "print" },
		{ "Blank", "blank" }, { "Cntrl", "cntrl" }, { "XDigit", "xdigit" },
		{ "Space", "space" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i][0]) == n && !strncmp(map[i][0], name, n))
			return map[i][1];
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long hexn(const char *p, int n)
{
	long v = 0;
	int i;

	for (i = 0; i < n; i++) {
		int h = hexval((unsigned char)p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* One UTF-8 character at p (of at most n bytes); its length in *len. */
static long utf8_cp(const char *p, size_t n, size_t *len)
{
	unsigned char c = (unsigned char)p[0];
	size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	long cp = k == 1 ? c : c & (0x3f >> (k - 1));
	size_t i;

	if (k > n)
		k = 1;
	for (i = 1; i < k; i++)
		cp = (cp << 6) | ((unsigned char)p[i] & 0x3f);
	*len = k;
	return cp;
}

/* A class item: one code point (cp >= 0), or a set written as text. */
struct citem {
	long cp;
	const char *text;
	size_t len;
	bool dash;         /* an unescaped '-' */
	const char *posix; /* a Java POSIX property: PCRE2's class name */
	bool neg;          /* \P{..} */
};

/* Reads one item of a class at p (before end); returns its length. */
static size_t class_item(const char *p, const char *end, struct citem *it)
{
	size_t n = (size_t)(end - p), k;

	it->text = p;
	it->dash = false;
	it->cp = -1;
	it->posix = NULL;
	if (p[0] != '\\') {
		if (p[0] == '[' && n > 1 && p[1] == ':') {
			const char *q = strstr(p + 2, ":]");
			if (q && q < end) /* a POSIX class kept as it is */
				return it->len = (size_t)(q + 2 - p);
		}
		it->dash = p[0] == '-';
		it->cp = utf8_cp(p, n, &k);
		return it->len = k;
	}
	if (n < 2)
		return it->cp = '\\', it->len = 1;
	switch (p[1]) {
	case 'w': case 'W': case 'd': case 'D': case 's': case 'S':
		return it->len = 2;
	case 'p': case 'P': {
		const char *q = p[2] == '{' ? memchr(p, '}', n) : NULL;
		const char *posix = q ? posix_class(p + 3, (size_t)(q - p - 3)) : NULL;
		if (posix) {
			it->posix = posix;
			it->neg = p[1] == 'P';
		}
		return it->len = q ? (size_t)(q + 1 - p) : 2;
	}
	case 't': it->cp = '\t'; return it->len = 2;
	case 'n': it->cp = '\n'; return it->len = 2;
	case 'r': it->cp = '\r'; return it->len = 2;
	case 'f': it->cp = '\f'; return it->len = 2;
	case 'v': it->cp = '\v'; return it->len = 2;
	case 'b': it->cp = 8; return it->len = 2;
	case '0': it->cp = 0; return it->len = 2;
	case 'x':
		if (n >= 4 && (it->cp = hexn(p + 2, 2)) >= 0)
			return it->len = 4;
		break;
	case 'u':
		if (n >= 6 && (it->cp = hexn(p + 2, 4)) >= 0)
			return it->len = 6;
		break;
	default:
		if (!((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') ||
		      (p[1] >= '0' && p[1] <= '9'))) {
			it->cp = utf8_cp(p + 1, n - 1, &k); /* \- \] \. \/ ... */
			return it->len = 1 + k;
		}
	}
	it->cp = -1; /* another escape: PCRE2 decides */
	return it->len = 2;
}

static void emit_set(struct strbuf *out, const struct citem *it)
{
	if (it->posix)
		strbuf_addf(out, "[:%s%s:]", it->neg ? "^" : "", it->posix);
	else
		strbuf_add(out, it->text, it->len);
}

/* A range lo-hi of code points, without the surrogates (*sur set when
 * there were some). */
static void emit_range(struct strbuf *out, long lo, long hi, bool *sur)
{
	if (lo > hi)
		return;
	if (hi >= 0xd800 && lo <= 0xdfff) {
		*sur = true;
		emit_range(out, lo, 0xd7ff, sur);
		emit_range(out, 0xe000, hi, sur);
		return;
	}
	strbuf_addf(out, "\\u{%lx}", lo);
	if (hi > lo)
		strbuf_addf(out, "-\\u{%lx}", hi);
}

/* The class starting at p ('[') into out; returns where it ends. */
static const char *adapt_class(const char *p, struct strbuf *out)
{
	struct citem items[512];
	size_t n = 0, i;
	const char *q = p + 1, *end = p + strlen(p);
	bool sur = false;

	strbuf_addch(out, '[');
	if (*q == '^')
		strbuf_addch(out, *q++);
	while (q < end && *q != ']' && n < sizeof(items) / sizeof(items[0]))
		q += class_item(q, end, &items[n++]);
	if (q >= end || *q != ']')
		return NULL; /* unterminated, or huge: left to PCRE2 as written */
	for (i = 0; i < n; i++) {
		struct citem *a = &items[i];
		if (a->cp >= 0 && i + 2 < n && items[i + 1].dash &&
		    items[i + 2].cp >= 0) { /* a range */
			emit_range(out, a->cp, items[i + 2].cp, &sur);
			i += 2;
		} else if (a->cp >= 0) {
			emit_range(out, a->cp, a->cp, &sur);
		} else {
			emit_set(out, a);
		}
	}
	if (sur) /* surrogate pairs stood for the supplementary planes */
		strbuf_addstr(out, "\\u{10000}-\\u{10ffff}");
	strbuf_addch(out, ']');
	return q + 1;
}

/* src with the constructs above adapted for PCRE2. */
static void adapt(const char *src, struct strbuf *out)
{
	const char *p = src;

	while (*p) {
		if (*p == '\\' && p[1]) {
			const char *q = (p[1] == 'p' || p[1] == 'P') && p[2] == '{'
						? strchr(p, '}') : NULL;
			const char *posix = q ? posix_class(p + 3, (size_t)(q - p - 3)) : NULL;
			if (posix) {
				strbuf_addf(out, "[[:%s%s:]]", p[1] == 'P' ? "^" : "", posix);
				p = q + 1;
			} else {
				strbuf_add(out, p, 2);
				p += 2;
			}
		} else if (*p == '[') {
			size_t mark = out->len;
			const char *q = adapt_class(p, out);
			if (!q) { /* as written */
				strbuf_setlen(out, mark);
				strbuf_addch(out, *p++);
			} else {
				p = q;
			}
		} else {
			strbuf_addch(out, *p++);
		}
	}
}

/* Counted repeats with an upper bound over 100 lose it: {1,900} -> {1,}. */
static void lift_bounds(const char *src, struct strbuf *out)
{
	const char *p = src;

	while (*p) {
		long lo, hi;
		int k = 0;
		if (*p == '\\' && p[1]) {
			strbuf_add(out, p, 2);
			p += 2;
		} else if (*p == '{' && sscanf(p, "{%ld,%ld}%n", &lo, &hi, &k) == 2 &&
			   k > 0 && hi > 100) {
			strbuf_addf(out, "{%ld,}", lo);
			p += k;
		} else {
			strbuf_addch(out, *p++);
		}
	}
}

/* Called under cache_lock. */
static pcre2_code *compile_one(const char *pat, int *code, PCRE2_SIZE *off)
{
	static pcre2_compile_context *cctx;

	if (!cctx) {
		cctx = pcre2_compile_context_create(NULL);
		if (!cctx)
			abort();
		/* \u{...} as ECMAScript 6 has it, beside \uHHHH: adapt()
		 * writes code points in a class as \u{...} */
		pcre2_set_compile_extra_options(cctx, PCRE2_EXTRA_ALT_BSUX);
	}
	return pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, RX_OPTIONS,
			     code, off, cctx);
}

static void compile_entry(struct rx_entry *e)
{
	struct strbuf pat = STRBUF_INIT;
	int code;
	PCRE2_SIZE off;

	adapt(e->src, &pat);
	e->code = compile_one(pat.buf, &code, &off);
	if (!e->code && code == PCRE2_ERROR_PATTERN_TOO_LARGE) {
		struct strbuf lifted = STRBUF_INIT;
		lift_bounds(pat.buf, &lifted);
		e->code = compile_one(lifted.buf, &code, &off);
		strbuf_release(&lifted);
	}
	strbuf_release(&pat);
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
