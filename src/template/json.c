/*
 * Strict JSON (RFC 8259) syntax check for templates written in JSON.
 *
 * The loader reads every template with libyaml, and JSON is nearly a subset
 * of YAML, so a JSON template loads as YAML. "Nearly" is the problem: YAML
 * also takes trailing commas, comments, single quotes and bare words, which
 * CloudFormation refuses in a JSON template ("Template format error: JSON
 * not well-formed. (line L, column C)"). A template whose first significant
 * byte is '{' is taken for JSON, as CloudFormation does, and must pass this
 * check before the YAML loader builds its tree.
 *
 * The check is iterative: a byte per open container on a fixed stack, capped
 * at TEMPLATE_MAX_DEPTH like the YAML loader.
 */
#include <string.h>

#include "internal.h"

struct jscan {
	const unsigned char *s;
	size_t n, i;
	unsigned line, col;
	const char *why;
};

static void step(struct jscan *j)
{
	unsigned char c = j->s[j->i++];

	if (c == '\n') {
		j->line++;
		j->col = 1;
	} else if ((c & 0xc0) != 0x80) {
		/* columns count characters, as libyaml's marks do */
		j->col++;
	}
}

static void skip_ws(struct jscan *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
			       j->s[j->i] == '\n' || j->s[j->i] == '\r'))
		step(j);
}

static int peek(const struct jscan *j)
{
	return j->i < j->n ? j->s[j->i] : -1;
}

static bool is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool fail(struct jscan *j, const char *why)
{
	j->why = why;
	return false;
}

static bool scan_string(struct jscan *j)
{
	step(j); /* the opening quote */
	for (;;) {
		int c = peek(j);

		if (c < 0)
			return fail(j, "unterminated string");
		if (c == '"') {
			step(j);
			return true;
		}
		if (c < 0x20)
			return fail(j, c == '\n' ? "line break inside a string "
						   "(write \\n)"
						 : "control character inside a "
						   "string");
		if (c != '\\') {
			step(j);
			continue;
		}
		step(j);
		c = peek(j);
		if (c < 0)
			return fail(j, "unterminated string");
		if (c == 'u') {
			int k;

			step(j);
			for (k = 0; k < 4; k++) {
				if (!is_hex(peek(j)))
					return fail(j, "\\u needs four hex "
						       "digits");
				step(j);
			}
			continue;
		}
		if (!strchr("\"\\/bfnrt", c))
			return fail(j, "invalid escape in a string");
		step(j);
	}
}

static bool scan_digits(struct jscan *j)
{
	if (!is_digit(peek(j)))
		return false;
	while (is_digit(peek(j)))
		step(j);
	return true;
}

static bool scan_number(struct jscan *j)
{
	if (peek(j) == '-')
		step(j);
	if (peek(j) == '0') {
		step(j);
		if (is_digit(peek(j)))
			return fail(j, "number with a leading zero");
	} else if (!scan_digits(j)) {
		return fail(j, "invalid number");
	}
	if (peek(j) == '.') {
		step(j);
		if (!scan_digits(j))
			return fail(j, "a digit must follow the decimal point");
	}
	if (peek(j) == 'e' || peek(j) == 'E') {
		step(j);
		if (peek(j) == '+' || peek(j) == '-')
			step(j);
		if (!scan_digits(j))
			return fail(j, "a digit must follow the exponent");
	}
	return true;
}

static bool scan_word(struct jscan *j)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t k;

	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
		size_t len = strlen(words[k]);

		if (j->n - j->i >= len && !memcmp(j->s + j->i, words[k], len)) {
			size_t e = j->i + len;

			if (e < j->n && ((j->s[e] >= 'a' && j->s[e] <= 'z') ||
					 (j->s[e] >= 'A' && j->s[e] <= 'Z') ||
					 is_digit(j->s[e]) || j->s[e] == '_'))
				break;
			while (j->i < e)
				step(j);
			return true;
		}
	}
	return fail(j, peek(j) == '\'' ? "strings take double quotes"
		    : peek(j) == '/' || peek(j) == '#'
			    ? "comments are not allowed in JSON"
			    : "expected a value (string, number, object, "
			      "array, true, false or null)");
}

/* Scans one scalar value or opens a container (pushed on stack). */
static bool scan_value(struct jscan *j, char *stack, int *depth)
{
	int c = peek(j);

	if (c == '{' || c == '[') {
		if (*depth >= TEMPLATE_MAX_DEPTH)
			return fail(j, "nested too deeply");
		stack[(*depth)++] = (char)c;
		step(j);
		return true;
	}
	if (c == '"')
		return scan_string(j);
	if (c == '-' || is_digit(c))
		return scan_number(j);
	if (c < 0)
		return fail(j, "unexpected end of file");
	return scan_word(j);
}

/*
 * States: after an opening bracket (a first member or the close may follow),
 * after a comma (a member must follow), after a member (a comma or the close
 * must follow).
 */
enum jstate { J_OPENED, J_COMMA, J_MEMBER };

static bool scan_member_start(struct jscan *j, char top)
{
	if (top != '{')
		return true;
	if (peek(j) < 0)
		return fail(j, "unexpected end of file");
	if (peek(j) == '/' || peek(j) == '#')
		return fail(j, "comments are not allowed in JSON");
	if (peek(j) != '"')
		return fail(j, peek(j) == '\''
				       ? "strings take double quotes"
				       : "object keys must be double-quoted "
					 "strings");
	if (!scan_string(j))
		return false;
	skip_ws(j);
	if (peek(j) != ':')
		return fail(j, "expected ':' after an object key");
	step(j);
	skip_ws(j);
	return true;
}

bool tmpl_json_check(const char *text, size_t len, unsigned *line,
		     unsigned *col, const char **why)
{
	struct jscan j = { (const unsigned char *)text, len, 0, 1, 1, NULL };
	char stack[TEMPLATE_MAX_DEPTH];
	int depth = 0;
	enum jstate st = J_MEMBER;
	bool ok = true;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		j.i = 3;
	skip_ws(&j);
	ok = scan_value(&j, stack, &depth);
	if (ok && depth)
		st = J_OPENED;
	while (ok && depth) {
		char top = stack[depth - 1];
		char close = top == '{' ? '}' : ']';
		int c;

		skip_ws(&j);
		c = peek(&j);
		if (c == close && st != J_COMMA) {
			step(&j);
			depth--;
			st = J_MEMBER;
			continue;
		}
		if (st == J_MEMBER) {
			if (c == ',') {
				step(&j);
				st = J_COMMA;
				continue;
			}
			ok = fail(&j, c < 0 ? "unexpected end of file"
				      : top == '{'
					  ? "expected ',' or '}' after an "
					    "object member"
					  : "expected ',' or ']' after an "
					    "array element");
			break;
		}
		if (c == close) {
			ok = fail(&j, "trailing comma before the closing "
				      "bracket");
			break;
		}
		ok = scan_member_start(&j, top);
		if (ok) {
			int before = depth;

			ok = scan_value(&j, stack, &depth);
			st = depth > before ? J_OPENED : J_MEMBER;
		}
	}
	if (ok) {
		skip_ws(&j);
		if (j.i < j.n)
			ok = fail(&j, "content after the end of the JSON "
				      "document");
	}
	*line = j.line;
	*col = j.col;
	*why = j.why;
	return ok;
}

bool tmpl_looks_like_json(const char *text, size_t len)
{
	size_t i = 0;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
			   text[i] == '\n' || text[i] == '\r'))
		i++;
	return i < len && text[i] == '{';
}
