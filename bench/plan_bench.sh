#!/bin/bash
# Benchmark of `cairn plan` without refresh on generated stacks whose state
# already matches (bench/gen_stack.py + bench/plan_state.py, the state
# written through the state API by plan_fixture), at N = 100, 1000, 5000.
# Builds a release binary without sanitizers in build-bench-plan/, checks
# that each plan is empty (--detailed-exitcode 0), runs each size RUNS times
# (default 7) and prints the median wall time and median peak RSS
# (/usr/bin/time -v). The lock is taken as by default (one small write).
# Targets: 1000 resources < 100 ms and < 30 MB; 5000 < 500 ms.
#   bench/plan_bench.sh [N...]
set -eu
cd "$(dirname "$0")/.."
export PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH
B=build-bench-plan
RUNS=${RUNS:-7}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000)

if [ ! -f "$B/build.ninja" ]; then
	meson setup "$B" --buildtype=release -Db_sanitize=none -Dwerror=false \
		>/dev/null
fi
ninja -C "$B" -j2 cairn tests/unit/plan/plan_fixture >"$B/plan_bench_build.log" 2>&1 ||
	{ tail -20 "$B/plan_bench_build.log"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export NO_COLOR=1
unset AWS_REGION AWS_DEFAULT_REGION

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# CPU ms (user + system) is printed too: on a loaded machine the wall time
# mostly measures the wait for a core.
printf '%8s %12s %12s %14s %10s\n' resources "median ms" "median CPU" \
	"median RSS MB" "state KB"
for n in "${sizes[@]}"; do
	f="$tmp/stack-$n.yaml"
	db="$tmp/stack-$n.db"
	/usr/bin/python3 bench/gen_stack.py "$n" >"$f"
	/usr/bin/python3 bench/plan_state.py "$n" "stack-$n" >"$tmp/state.json"
	"$B/tests/unit/plan/plan_fixture" write "$db" "$tmp/state.json"
	set +e
	"$B/cairn" plan "$f" --state "$db" --region us-east-1 --refresh=false \
		--detailed-exitcode >"$tmp/out" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		echo "plan of $n resources is not empty (exit $rc):"
		head -30 "$tmp/out"
		exit 1
	fi
	: >"$tmp/ms"
	: >"$tmp/cpu"
	: >"$tmp/rss"
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -v "$B/cairn" plan "$f" --state "$db" \
			--region us-east-1 --refresh=false >/dev/null 2>"$tmp/time"
		awk -F': ' '/Elapsed \(wall clock\)/ {
			n = split($2, p, ":"); s = 0
			for (i = 1; i <= n; i++) s = s * 60 + p[i]
			printf "%.1f\n", s * 1000 }' "$tmp/time" >>"$tmp/ms"
		awk -F': ' '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' \
			"$tmp/time" >>"$tmp/rss"
		awk -F': ' '/User time/ {u = $2} /System time/ {s = $2}
			END {printf "%.0f\n", (u + s) * 1000}' "$tmp/time" >>"$tmp/cpu"
	done
	printf '%8s %12s %12s %14s %10s\n' "$n" "$(median <"$tmp/ms")" \
		"$(median <"$tmp/cpu")" "$(median <"$tmp/rss")" \
		"$(($(stat -c %s "$db") / 1024))"
done
