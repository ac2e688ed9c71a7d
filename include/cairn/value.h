/*
 * value: the tree every layer exchanges: a parsed template, evaluated
 * properties, state rows, AWS responses converted at the boundary.
 *
 * Kinds follow JSON plus VALUE_UNKNOWN, a value only AWS knows yet (GetAtt of
 * a resource not created, a physical id): `u.unknown.what` says what it
 * stands for ("PrivateSubnet.SubnetId") so a plan can print
 * "(known after apply)". Numbers keep their source text, so "010" or
 * "1.50" round-trip as written.
 *
 * Every node carries the mark (file:line:col, 1-based; line 0 = none) of
 * where it came from, and a `sensitive` bit set on values derived from NoEcho
 * parameters or secret properties; operations that build new values from
 * sensitive ones keep the bit. A string holding CloudFormation dynamic
 * references ({{resolve:ssm:...}}, {{resolve:secretsmanager:...}}) keeps
 * the template's text and carries `dynref` (and `sensitive`): the value is
 * read from AWS only at apply, just before the call that needs it.
 *
 * Ownership: all nodes and strings live in the struct arena passed to the
 * constructor and die with it. Maps keep insertion order; keys are unique
 * (value_map_set replaces). Lookups are linear: index big maps yourself.
 */
#ifndef CAIRN_VALUE_H
#define CAIRN_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "err.h"
#include "strbuf.h"

enum value_kind {
	VALUE_NULL,
	VALUE_BOOL,
	VALUE_NUMBER,
	VALUE_STRING,
	VALUE_LIST,
	VALUE_MAP,
	VALUE_UNKNOWN,
};

struct mark {
	const char *file; /* borrowed from the loader's arena */
	unsigned line;
	unsigned col;
};

struct value;

struct value_pair {
	const char *key;
	struct mark key_mark;
	struct value *val;
};

struct value {
	enum value_kind kind;
	unsigned sensitive : 1;
	/* a string with {{resolve:...}} references, resolved at apply */
	unsigned dynref : 1;
	struct mark mark;
	union {
		bool b;
		struct {
			const char *text;
			double d;
		} num;
		struct {
			const char *s; /* NUL-terminated; may contain no NUL */
			size_t len;
		} str;
		struct {
			struct value **items;
			size_t n, cap;
		} list;
		struct {
			struct value_pair *items;
			size_t n, cap;
		} map;
		struct {
			const char *what;
		} unknown;
	} u;
};

struct value *value_new_null(struct arena *a);
struct value *value_new_bool(struct arena *a, bool b);
/* text must parse as a number (strtod); the text is copied */
struct value *value_new_number(struct arena *a, const char *text);
struct value *value_new_number_d(struct arena *a, double d);
struct value *value_new_string(struct arena *a, const char *s);
struct value *value_new_stringn(struct arena *a, const char *s, size_t len);
struct value *value_new_list(struct arena *a);
struct value *value_new_map(struct arena *a);
struct value *value_new_unknown(struct arena *a, const char *what);

void value_list_push(struct arena *a, struct value *list, struct value *item);
/* Room for n items in a list or map (no-op for other kinds or when it has
 * room): a caller that knows the size spares the arena the arrays a list
 * grown by doubling leaves behind. */
void value_reserve(struct arena *a, struct value *v, size_t n);
/* Sets key (copied) to val, replacing an existing entry in place. */
void value_map_set(struct arena *a, struct value *map, const char *key,
		   struct value *val);
/* NULL when absent or when map is not a map. */
struct value *value_map_get(const struct value *map, const char *key);
/* Removes key if present; returns whether it was there. */
bool value_map_del(struct value *map, const char *key);

/* Path access: "a.b[2].c"; NULL when any step is missing. */
struct value *value_get_path(const struct value *v, const char *path);
/* The string of a VALUE_STRING, else NULL. */
const char *value_str(const struct value *v);

/* Deep copy into arena a (marks and sensitive bits kept). */
struct value *value_copy(struct arena *a, const struct value *v);

/* Structural equality. Numbers compare by value; unknowns are never equal
 * to anything (their value is not known). */
bool value_equal(const struct value *x, const struct value *y);
/* True if v or anything under it is VALUE_UNKNOWN / sensitive. */
bool value_has_unknown(const struct value *v);
bool value_has_sensitive(const struct value *v);
/* True if v or anything under it carries the dynref bit. */
bool value_has_dynref(const struct value *v);

/* JSON rendering. Unknowns render as null unless VALUE_JSON_UNKNOWN_MARKER,
 * which renders {"$unknown": what}. Sensitive values render as "(sensitive)"
 * when VALUE_JSON_REDACT is set. */
enum {
	VALUE_JSON_PRETTY = 1,
	VALUE_JSON_REDACT = 2,
	VALUE_JSON_UNKNOWN_MARKER = 4,
	VALUE_JSON_SORT_KEYS = 8,
};
void value_to_json(const struct value *v, struct strbuf *out, int flags);

/* Parses JSON text into arena a. Accepts the {"$unknown": what} marker back
 * when VALUE_JSON_UNKNOWN_MARKER is in flags. */
struct value *value_from_json(struct arena *a, const char *text, size_t len,
			      int flags, struct err *err);

const char *value_kind_name(enum value_kind k);

#endif
