#!/bin/bash
# The corpus of bad templates: each tests/templates/bad/*.yaml ends with
# "# expect: LINE" comments, the exact problems `cairn validate` must print
# (file:line:col, severity, path, message), in order and nothing else. An
# optional "# args: ..." line gives extra options.
. "$(dirname "$0")/lib.sh"

cd "$CAIRN_SRC/tests/templates/bad" || exit 1
for f in *.yaml; do
	want=$(sed -n 's/^# expect: //p' "$f")
	args=$(sed -n 's/^# args: //p' "$f")
	if [ -z "$want" ]; then t_fail "$f has no '# expect:' line"; continue; fi
	# shellcheck disable=SC2086
	t_run "$f: validate exits 1" 1 "$CAIRN" validate $args "$f"
	# the last line is the "FILE: N errors" summary
	got=$(printf '%s\n' "$T_ERR" | sed '$d')
	if [ "$got" = "$want" ]; then
		t_ok "$f: exact messages"
	else
		t_fail "$f: exact messages"
		diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/#   /'
	fi
	t_grep "$f: summary line" "^$f: [0-9]+ errors?$" "$(printf '%s\n' "$T_ERR" | tail -n1)"
done

# A file over 10 MB is refused before parsing (generated: too big for git).
big="$T_TMP/big.yaml"
head -c 10485761 /dev/zero | tr '\0' ' ' >"$big"
t_run "10 MB + 1 byte is refused" 1 "$CAIRN" validate "$big"
t_grep "size message" "^$big: error: file is larger than 10 MB$" "$T_ERR"

# --json carries the same problems
t_run "--json on a bad template exits 1" 1 "$CAIRN" validate --json duplicate-key.yaml
t_grep "--json valid false" '"valid": false' "$T_OUT"
t_grep "--json problem" '"line": 6, "column": 7' "$T_OUT"

# nothing the user can do crashes it: missing file, directory, usage errors
t_run "missing file" 1 "$CAIRN" validate "$T_TMP/none.yaml"
t_grep "missing file message" "cannot read \"$T_TMP/none.yaml\": No such file" "$T_ERR"
t_run "no template is a usage error" 2 "$CAIRN" validate
t_run "two templates is a usage error" 2 "$CAIRN" validate a.yaml b.yaml
t_run "bad --param is a usage error" 2 "$CAIRN" validate --param novalue empty.yaml
t_run "bad --region is a usage error" 2 "$CAIRN" validate --region 'Mars 1' empty.yaml
t_run "bad --account is a usage error" 2 "$CAIRN" validate --account 12 empty.yaml
t_run "unknown option is a usage error" 2 "$CAIRN" validate --frob empty.yaml
t_run "graph --format xml is a usage error" 2 "$CAIRN" graph --format xml empty.yaml
t_run "graph of a cyclic template fails" 1 "$CAIRN" graph dependency-cycle.yaml
t_grep "graph prints the cycle" 'dependency cycle: AppSg -> DbSg -> CacheSg -> AppSg' "$T_ERR"
t_done
