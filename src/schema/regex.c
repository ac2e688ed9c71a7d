/*
 * ECMA-262 patterns of the registry schemas, run with POSIX regcomp.
 *
 * The schemas' patterns are JavaScript regexes (cfn-lint runs them with
 * Python's re, which agrees for everything used here). POSIX ERE lacks
 * the shorthand classes, non-capturing groups, lookarounds and Unicode
 * properties, so each pattern is rewritten once at load time:
 *   \d \w \s (and negations) -> bracket expressions
 *   (?:...)                  -> (...)
 *   ^(?=.{m,n}$)             -> dropped, checked as a length in code points
 *   \Z \z                    -> $          \A -> ^
 *   \uXXXX, \n, \t, \r       -> the character (UTF-8 for non-ASCII)
 *   *? +? ?? {m,n}?          -> greedy (same match / no match answer)
 *   ^[...]{m,n}$             -> ^[...]*$ and a length check (speed)
 * Inside a class, \p{L}, \p{N}, \p{Z} and code points above U+007F cannot
 * be listed in a byte-oriented bracket, so they become "any non-ASCII
 * byte" (0x80-0xFF): lenient for non-ASCII text, exact for ASCII. Other
 * constructs (other lookarounds, backreferences, \P{..}, \b) make the
 * pattern unsupported: it is skipped, never a false error and never a
 * crash.
 *
 * regcomp runs in whatever LC_CTYPE the process has; cairn never calls
 * setlocale, so it is "C" and the raw bytes 0x80-0xFF in brackets are
 * single characters. Matching is a search (unanchored unless the pattern
 * anchors itself), as in JSON Schema.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/strbuf.h"
#include "internal.h"

/* A bracket expression being built: a byte set. */
struct cclass {
	uint8_t bits[32];
	bool negated;
};

static void cc_add(struct cclass *cc, unsigned c)
{
	cc->bits[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static bool cc_has(const struct cclass *cc, unsigned c)
{
	return cc->bits[c >> 3] & (1u << (c & 7));
}

static void cc_add_range(struct cclass *cc, unsigned lo, unsigned hi)
{
	unsigned c;

	for (c = lo; c <= hi && c < 256; c++)
		cc_add(cc, c);
}

static void cc_add_nonascii(struct cclass *cc)
{
	cc_add_range(cc, 0x80, 0xff);
}

/* Adds a code point; those above ASCII stand for "any non-ASCII byte". */
static void cc_add_cp(struct cclass *cc, unsigned long cp)
{
	if (cp < 0x80)
		cc_add(cc, (unsigned)cp);
	else
		cc_add_nonascii(cc);
}

static void cc_add_cp_range(struct cclass *cc, unsigned long lo,
			    unsigned long hi)
{
	if (lo < 0x80)
		cc_add_range(cc, (unsigned)lo, hi < 0x80 ? (unsigned)hi : 0x7f);
	if (hi >= 0x80)
		cc_add_nonascii(cc);
}

static void cc_add_digit(struct cclass *cc)
{
	cc_add_range(cc, '0', '9');
}

static void cc_add_word(struct cclass *cc)
{
	cc_add_range(cc, 'a', 'z');
	cc_add_range(cc, 'A', 'Z');
	cc_add_range(cc, '0', '9');
	cc_add(cc, '_');
}

static void cc_add_space(struct cclass *cc)
{
	static const char sp[] = " \t\n\r\f\v";
	const char *p;

	for (p = sp; *p; p++)
		cc_add(cc, (unsigned char)*p);
}

static void cc_invert_into(struct cclass *dst, const struct cclass *src)
{
	unsigned c;

	for (c = 0; c < 256; c++)
		if (!cc_has(src, c))
			cc_add(dst, c);
}

/* Emits cc as an ERE bracket expression (or an escaped single char). */
static int cc_emit(const struct cclass *cc, struct strbuf *out)
{
	unsigned c, count = 0;

	for (c = 1; c < 256; c++)
		count += cc_has(cc, c) ? 1 : 0;
	if (!count)
		return -1; /* an empty class: nothing sensible to emit */
	strbuf_addch(out, '[');
	if (cc->negated)
		strbuf_addch(out, '^');
	/* ']' first, '^' never first, '[' then '-' last */
	if (cc_has(cc, ']'))
		strbuf_addch(out, ']');
	for (c = 1; c < 256; c++) {
		if (c == ']' || c == '^' || c == '[' || c == '-' || !cc_has(cc, c))
			continue;
		strbuf_addch(out, (int)c);
	}
	if (cc_has(cc, '^')) {
		if (out->buf[out->len - 1] == '[') {
			/* "^" alone: [^] would negate */
			strbuf_setlen(out, out->len - 1);
			strbuf_addstr(out, "\\^");
			return 0;
		}
		strbuf_addch(out, '^');
	}
	if (cc_has(cc, '['))
		strbuf_addch(out, '[');
	if (cc_has(cc, '-'))
		strbuf_addch(out, '-');
	strbuf_addch(out, ']');
	return 0;
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

/* Parses n hex digits at p; -1 if not all hex. */
static long parse_hex(const char *p, int n)
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

/* \p{..}: the Unicode categories met in the schemas, approximated. */
static int cc_add_property(struct cclass *cc, const char *name, size_t len)
{
	if (len == 1 && name[0] == 'L') {
		cc_add_range(cc, 'a', 'z');
		cc_add_range(cc, 'A', 'Z');
	} else if (len == 1 && name[0] == 'N') {
		cc_add_digit(cc);
	} else if (len == 1 && name[0] == 'Z') {
		cc_add(cc, ' ');
	} else {
		return -1;
	}
	cc_add_nonascii(cc);
	return 0;
}

/*
 * One escape at *pp (just after the backslash), as a code point when it
 * stands for one character, or added to cc when it is a class. Returns 1
 * for a code point (*cp set), 0 for a class added, -1 unsupported.
 */
static int parse_escape(const char **pp, struct cclass *cc, unsigned long *cp)
{
	const char *p = *pp;
	struct cclass tmp;
	long v;

	switch (*p) {
	case 'd':
		cc_add_digit(cc);
		break;
	case 'w':
		cc_add_word(cc);
		break;
	case 's':
		cc_add_space(cc);
		break;
	case 'D':
	case 'W':
	case 'S':
		memset(&tmp, 0, sizeof(tmp));
		if (*p == 'D')
			cc_add_digit(&tmp);
		else if (*p == 'W')
			cc_add_word(&tmp);
		else
			cc_add_space(&tmp);
		cc_invert_into(cc, &tmp);
		break;
	case 'p': {
		const char *end;
		if (p[1] != '{')
			return -1;
		end = strchr(p + 2, '}');
		if (!end || cc_add_property(cc, p + 2, (size_t)(end - p - 2)))
			return -1;
		*pp = end + 1;
		return 0;
	}
	case 'u':
		if ((v = parse_hex(p + 1, 4)) < 0)
			return -1;
		*cp = (unsigned long)v;
		*pp = p + 5;
		return 1;
	case 'x':
		if ((v = parse_hex(p + 1, 2)) < 0)
			return -1;
		*cp = (unsigned long)v;
		*pp = p + 3;
		return 1;
	case 'n':
		*cp = '\n';
		break;
	case 't':
		*cp = '\t';
		break;
	case 'r':
		*cp = '\r';
		break;
	case 'f':
		*cp = '\f';
		break;
	case 'v':
		*cp = '\v';
		break;
	case '\0':
		return -1;
	default:
		/* backreferences, \b, \B, \P, \k, \c...: not expressible */
		if (isalnum((unsigned char)*p))
			return -1;
		*cp = (unsigned char)*p; /* an escaped punctuation character */
		break;
	}
	*pp = p + 1;
	return (*p == 'd' || *p == 'w' || *p == 's' || *p == 'D' || *p == 'W' ||
		*p == 'S') ? 0 : 1;
}

static void emit_literal_cp(unsigned long cp, struct strbuf *out)
{
	if (cp < 0x80) {
		if (strchr(".[]()*+?{}|^$\\", (int)cp))
			strbuf_addch(out, '\\');
		strbuf_addch(out, (int)cp);
		return;
	}
	/* UTF-8, grouped so a following quantifier applies to all of it */
	strbuf_addch(out, '(');
	if (cp < 0x800) {
		strbuf_addch(out, (int)(0xc0 | (cp >> 6)));
	} else {
		strbuf_addch(out, (int)(0xe0 | (cp >> 12)));
		strbuf_addch(out, (int)(0x80 | ((cp >> 6) & 0x3f)));
	}
	strbuf_addch(out, (int)(0x80 | (cp & 0x3f)));
	strbuf_addch(out, ')');
}

/* A bracket expression starting after '['; *pp is left after ']'. */
static int parse_class(const char **pp, struct strbuf *out)
{
	const char *p = *pp;
	struct cclass cc;

	memset(&cc, 0, sizeof(cc));
	if (*p == '^') {
		cc.negated = true;
		p++;
	}
	/* in ECMA, "]" right after "[" closes an empty class */
	while (*p && *p != ']') {
		unsigned long lo, hi;
		int r;

		if (*p == '\\') {
			p++;
			r = parse_escape(&p, &cc, &lo);
			if (r < 0)
				return -1;
			if (r == 0)
				continue; /* a class: cannot start a range */
		} else if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			return -1; /* POSIX-looking syntax: ECMA means literal, rare */
		} else {
			lo = (unsigned char)*p++;
			if (lo >= 0x80)
				return -1; /* raw non-ASCII in a class: not met */
		}
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\') {
				struct cclass dummy;
				p++;
				memset(&dummy, 0, sizeof(dummy));
				if (parse_escape(&p, &dummy, &hi) != 1)
					return -1;
			} else {
				hi = (unsigned char)*p++;
				if (hi >= 0x80)
					return -1;
			}
			if (hi < lo)
				return -1;
			cc_add_cp_range(&cc, lo, hi);
		} else {
			cc_add_cp(&cc, lo);
		}
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	if (cc.negated) {
		/* a negated set that names non-ASCII cannot be expressed per byte */
		unsigned c;
		for (c = 0x80; c < 256; c++)
			if (cc_has(&cc, c))
				return -1;
	}
	return cc_emit(&cc, out);
}

/* A {m}, {m,} or {m,n} quantifier at p; its length, or 0 if not one. */
static size_t quantifier_len(const char *p)
{
	const char *q = p + 1;

	if (*p != '{' || !isdigit((unsigned char)*q))
		return 0;
	while (isdigit((unsigned char)*q))
		q++;
	if (*q == ',') {
		q++;
		while (isdigit((unsigned char)*q))
			q++;
	}
	if (*q != '}')
		return 0;
	return (size_t)(q - p + 1);
}

/* ^(?=.{m,n}$) at the start: sets the bounds and returns its length. */
static size_t length_lookahead(const char *p, long *min_len, long *max_len)
{
	char *end;
	long lo, hi = -1;
	const char *q;

	if (strncmp(p, "^(?=.{", 6) != 0)
		return 0;
	q = p + 6;
	if (!isdigit((unsigned char)*q))
		return 0;
	lo = strtol(q, &end, 10);
	q = end;
	if (*q == ',') {
		q++;
		if (isdigit((unsigned char)*q)) {
			hi = strtol(q, &end, 10);
			q = end;
		}
	} else {
		hi = lo;
	}
	if (strncmp(q, "}$)", 3) != 0)
		return 0;
	*min_len = lo;
	*max_len = hi;
	return (size_t)(q + 3 - p) - 1; /* keep the '^' */
}

int schema_regex_translate(const char *ecma, struct strbuf *ere,
			   long *min_len, long *max_len)
{
	const char *p = ecma;
	int depth = 0;

	*min_len = *max_len = -1;
	if (*p == '^') {
		size_t skip = length_lookahead(p, min_len, max_len);
		strbuf_addch(ere, '^');
		p += 1 + skip;
	}
	while (*p) {
		size_t q;

		switch (*p) {
		case '\\': {
			struct cclass cc;
			unsigned long cp;
			int r;

			p++;
			if (*p == 'Z' || *p == 'z') {
				strbuf_addch(ere, '$');
				p++;
				continue;
			}
			if (*p == 'A') {
				strbuf_addch(ere, '^');
				p++;
				continue;
			}
			memset(&cc, 0, sizeof(cc));
			r = parse_escape(&p, &cc, &cp);
			if (r < 0 || (r == 1 && cp == 0))
				return -1;
			if (r == 0) {
				if (cc_emit(&cc, ere))
					return -1;
			} else {
				emit_literal_cp(cp, ere);
			}
			continue;
		}
		case '[':
			p++;
			if (parse_class(&p, ere))
				return -1;
			continue;
		case '(':
			if (p[1] == '?') {
				if (p[2] != ':')
					return -1; /* lookaround or named group */
				p += 3;
			} else {
				p++;
			}
			depth++;
			strbuf_addch(ere, '(');
			continue;
		case ')':
			if (--depth < 0)
				return -1;
			strbuf_addch(ere, ')');
			p++;
			break;
		case '{':
			q = quantifier_len(p);
			if (!q) {
				strbuf_addstr(ere, "\\{"); /* a literal brace */
				p++;
				continue;
			}
			strbuf_add(ere, p, q);
			p += q;
			break;
		case '}':
			strbuf_addstr(ere, "\\}");
			p++;
			continue;
		case '*':
		case '+':
		case '?':
			strbuf_addch(ere, *p);
			p++;
			break;
		default:
			/* ASCII, or a UTF-8 byte of a literal character */
			strbuf_addch(ere, *p);
			p++;
			continue;
		}
		/* after a quantifier or a group: drop a lazy marker */
		if (*p == '?' && (p[-1] == '*' || p[-1] == '+' || p[-1] == '?' ||
				  p[-1] == '}'))
			p++;
	}
	return depth ? -1 : 0;
}

/*
 * "^[...]{m,n}$" (LogGroupName's {1,512}): glibc's regcomp unrolls a
 * bounded repetition into n copies, and matching then costs 6 us instead
 * of 0.2. Rewritten as "^[...]*$" plus a length check in code points
 * (which is how ECMA counts, too). Without the end anchor, "^[...]{m,n}"
 * finds a match as soon as m characters do: "^[...]{m}". Returns whether
 * src had that shape; *lo / *hi receive the bounds (-1: none).
 */
static bool bounded_class(const char *src, struct strbuf *out, long *lo,
			  long *hi)
{
	const char *p = src + 2, *q, *rest;
	char *end;
	long m, n;

	if (src[0] != '^' || src[1] != '[')
		return false;
	if (*p == '^')
		p++;
	if (*p == ']')
		return false;
	while (*p && *p != ']')
		p += (*p == '\\' && p[1]) ? 2 : 1;
	if (*p != ']' || p[1] != '{' || !isdigit((unsigned char)p[2]))
		return false;
	q = p + 2;
	m = strtol(q, &end, 10);
	q = end;
	n = m;
	if (*q == ',') {
		q++;
		n = -1;
		if (isdigit((unsigned char)*q)) {
			n = strtol(q, &end, 10);
			q = end;
		}
	}
	if (*q != '}' || (n >= 0 && n < m))
		return false;
	rest = q + 1;
	strbuf_add(out, src, (size_t)(p + 1 - src));
	if (!strcmp(rest, "$") || !strcmp(rest, "\\Z") || !strcmp(rest, "\\z")) {
		strbuf_addstr(out, "*$");
		*lo = m;
		*hi = n;
	} else if (!*rest) {
		strbuf_addf(out, "{%ld}", m);
		*lo = *hi = -1;
	} else {
		strbuf_reset(out);
		return false;
	}
	return true;
}

void schema_regex_compile(struct sregex *r, const char *src)
{
	struct strbuf ere = STRBUF_INIT, shaped = STRBUF_INIT;
	long lo = -1, hi = -1;
	bool bounded = bounded_class(src, &shaped, &lo, &hi);

	r->src = src;
	r->ok = false;
	if (schema_regex_translate(bounded ? shaped.buf : src, &ere, &r->min_len,
				   &r->max_len) == 0 &&
	    regcomp(&r->re, ere.buf, REG_EXTENDED | REG_NOSUB) == 0)
		r->ok = true;
	if (bounded) {
		r->min_len = lo;
		r->max_len = hi;
	}
	strbuf_release(&shaped);
	strbuf_release(&ere);
}

bool schema_regex_match(const struct sregex *r, const char *s)
{
	if (!r->ok)
		return true;
	if (r->min_len >= 0 || r->max_len >= 0) {
		size_t n = schema_utf8_len(s, strlen(s));
		if (r->min_len >= 0 && n < (size_t)r->min_len)
			return false;
		if (r->max_len >= 0 && n > (size_t)r->max_len)
			return false;
	}
	return regexec(&r->re, s, 0, NULL, 0) == 0;
}

size_t schema_utf8_len(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}
