/*
 * The schema module's internal form of a registry schema: a tree of nodes
 * with every `$ref` to #/definitions resolved to a pointer (definitions are
 * shared, so the "tree" may be a graph), enums and patterns pre-digested,
 * regexes compiled once. Built from cJSON by parse.c; cJSON never leaves
 * this folder. Private to src/schema/.
 */
#ifndef CAIRN_SCHEMA_INTERNAL_H
#define CAIRN_SCHEMA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn/arena.h"
#include "cairn/err.h"
#include "cairn/schema.h"

/* JSON Schema types, as a bit set (0 = any type). */
enum {
	ST_NULL = 1,
	ST_BOOLEAN = 2,
	ST_INTEGER = 4,
	ST_NUMBER = 8,
	ST_STRING = 16,
	ST_ARRAY = 32,
	ST_OBJECT = 64,
};

enum sformat {
	SF_NONE,
	SF_IPV4_NETWORK,
	SF_IPV6_NETWORK,
	SF_JSON,
};

/* One `pattern` (or patternProperties key), run with PCRE2 (regex.c). */
struct rx_entry;
struct sregex {
	const char *src; /* as written in the schema */
	/* the compiled pattern in regex.c's process-wide cache, set on first
	 * use; NULL before */
	_Atomic(const struct rx_entry *) compiled;
};

/* A literal of an enum or const. */
struct sliteral {
	int kind; /* ST_STRING, ST_NUMBER (integers too), ST_BOOLEAN, ST_NULL */
	const char *s; /* string value, or the number's text */
	double d;
	bool b;
};

struct sprop {
	const char *name;
	struct snode *node;
	/* top level only: listed in readOnlyProperties / deprecatedProperties */
	bool read_only, deprecated;
};

struct spattern_prop {
	struct sregex *re;
	struct snode *node;
};

/* A name and a list of names (dependentRequired, dependentExcluded). */
struct sdep {
	const char *name;
	const char **names;
	size_t n;
};

struct snode {
	unsigned types; /* ST_* bits; 0 = any */

	/* object */
	struct sprop *props; /* schema order */
	size_t nprops;
	struct sprop **sorted; /* by name, for bsearch */
	bool addl_false;       /* additionalProperties: false */
	struct snode *addl;    /* additionalProperties: {schema} */
	struct spattern_prop *pprops;
	size_t npprops;
	const char **required;
	size_t nrequired;
	const char **req_xor;
	size_t nreq_xor;
	const char **req_or;
	size_t nreq_or;
	struct sdep *dep_req;
	size_t ndep_req;
	struct sdep *dep_excl;
	size_t ndep_excl;

	/* array */
	struct snode *items;
	long min_items, max_items; /* -1: none */
	bool unique_items;
	bool unordered; /* insertionOrder: false */
	const char **unique_keys;
	size_t nunique_keys;

	/* string */
	long min_len, max_len; /* -1: none */
	struct sregex *pattern;
	enum sformat format;

	/* number */
	bool has_min, has_max, has_excl_min, has_excl_max;
	double minimum, maximum, excl_min, excl_max;
	double multiple_of; /* 0: none */

	/* any */
	struct sliteral *enums;
	size_t nenums;
	struct sliteral *constv;
	struct snode **any_of, **one_of, **all_of;
	size_t nany_of, none_of, nall_of;
};

/* A property path list ("/properties/A/B" stored as "A/B", "*" for list items). */
struct spath_list {
	const char **items;
	size_t n;
};

struct schema_type {
	const char *name;
	struct arena *arena; /* everything below lives here */
	struct snode *root;
	struct spath_list create_only, cond_create_only, write_only, read_only;
	struct spath_list deprecated;
	const char **primary_id;
	size_t nprimary_id;
	bool taggable;
	bool delete_first; /* replacementStrategy: delete_then_create */
	const char **attrs; /* GetAtt names, "A.B" for nested; sorted */
	size_t nattrs;
	const char *attr_list; /* comma-separated, for messages */
	struct sregex **regexes; /* every pattern of the type (tests list them) */
	size_t nregexes;
	/* embedded (a native provider's type) or from the all-types bundle */
	bool native;
	bool provisionable; /* through Cloud Control; native types: true */
};

/*
 * Builds a type from one schema's JSON text. On failure returns NULL and
 * fills err (ERR_PARSE for bad JSON, ERR_VALIDATION for a schema cairn
 * cannot use, such as a dangling $ref). Free with schema_type_free().
 */
struct schema_type *schema_parse_json(const char *json, size_t len,
				      struct err *err);

/* Sets r up for the pattern src (borrowed: it must outlive r). Compiling
 * waits for the first match. */
void schema_regex_init(struct sregex *r, const char *src);
/* Whether s (NUL-terminated, UTF-8) matches, as a search; true when PCRE2
 * rejected the pattern or cannot decide within its match limit. Thread-safe. */
bool schema_regex_match(const struct sregex *r, const char *s);
/* Whether the pattern compiles (compiling it now if needed). */
bool schema_regex_ok(const struct sregex *r);
/* 0 when src compiles as cairn compiles schema patterns; else -1 with
 * PCRE2's reason ("at offset 3: missing closing parenthesis") in msg. */
int schema_regex_check(const char *src, char *msg, size_t n);

/* Number of UTF-8 code points in s[0..len). */
size_t schema_utf8_len(const char *s, size_t len);

/* bundle.c: the bundle's (or the schema cache's) type, parsed on first
 * use; NULL when the bundle does not know the name. */
const struct schema_type *schema_bundle_find(const char *type_name);
/* A DescribeType answer's {"Schema": "...", "ProvisioningType": "..."};
 * *provisionable is set when the answer says. */
struct schema_type *schema_parse_described(const char *json, size_t len,
					   bool *provisionable,
					   struct err *err);

/* Property lookup by exact name in an object node; NULL when absent. */
const struct sprop *snode_sprop(const struct snode *n, const char *name);
const struct snode *snode_prop(const struct snode *n, const char *name);

/* Levenshtein distance, capped: returns cap + 1 once it exceeds cap. */
size_t schema_edit_distance(const char *a, const char *b, size_t cap);

#endif
