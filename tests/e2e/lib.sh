# Shared helpers for end-to-end scripts: source it, then call t_* and end
# with t_done. Each check prints "ok N - what" or "not ok N - what".
set -u
: "${CAIRN:?CAIRN must point at the cairn binary}"
: "${CAIRN_SRC:?CAIRN_SRC must point at the source tree}"
T_N=0
T_FAIL=0
T_TMP=$(mktemp -d)
trap 'rm -rf "$T_TMP"' EXIT

t_ok() { T_N=$((T_N + 1)); echo "ok $T_N - $1"; }
t_fail() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $1"; }
# t_run NAME EXPECTED_STATUS CMD...: runs CMD, output in $T_OUT/$T_ERR
t_run() {
	local name=$1 want=$2
	shift 2
	"$@" >"$T_TMP/out" 2>"$T_TMP/err"
	T_STATUS=$?
	T_OUT=$(cat "$T_TMP/out")
	T_ERR=$(cat "$T_TMP/err")
	if [ "$T_STATUS" -eq "$want" ]; then t_ok "$name"; else
		t_fail "$name (exit $T_STATUS, wanted $want)"
		sed 's/^/#   /' "$T_TMP/out" "$T_TMP/err" | head -40
	fi
}
# t_grep NAME PATTERN TEXT
t_grep() {
	if printf '%s' "$3" | grep -qE -- "$2"; then t_ok "$1"; else
		t_fail "$1 (no match for /$2/)"
		printf '%s\n' "$3" | sed 's/^/#   /' | head -40
	fi
}
t_nogrep() {
	if printf '%s' "$3" | grep -qE -- "$2"; then
		t_fail "$1 (unexpected match for /$2/)"
	else t_ok "$1"; fi
}
t_done() {
	echo "# $T_N checks, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}
