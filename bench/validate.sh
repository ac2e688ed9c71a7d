#!/bin/bash
# Benchmark of `cairn validate` (load, evaluate, schema checks, graph) on
# generated stacks of N = 100, 1000, 5000 resources. Builds a release binary
# without sanitizers in build-bench/, runs each size RUNS times (default 7)
# and prints the median wall time and median peak RSS (getrusage via wait4).
# Targets: 1000 resources < 50 ms and < 20 MB; 5000 < 250 ms.
#   bench/validate.sh [N...]
set -eu
cd "$(dirname "$0")/.."
export PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH
B=build-bench
RUNS=${RUNS:-7}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000)

if [ ! -f "$B/build.ninja" ]; then
	meson setup "$B" --buildtype=release -Db_sanitize=none -Dtests=false \
		-Dwerror=false >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ninja -C "$B" -j2 cairn >"$tmp/ninja.log" 2>&1 || { tail -20 "$tmp/ninja.log"; exit 1; }

# wall time and peak RSS of each run from wait4()'s rusage (no dependency
# on /usr/bin/time); medians over RUNS runs
measure() {
	/usr/bin/python3 - "$RUNS" "$@" <<'PY'
import os, statistics, subprocess, sys, time
runs, argv = int(sys.argv[1]), sys.argv[2:]
ms, rss = [], []
for _ in range(runs):
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    ms.append((time.perf_counter() - t) * 1000)
    rss.append(ru.ru_maxrss / 1024)
    if status:
        sys.exit("run failed: %s" % " ".join(argv))
print("%.1f %.1f" % (statistics.median(ms), statistics.median(rss)))
PY
}

printf '%9s %10s %14s %9s\n' resources "median ms" "median RSS MB" "file KB"
for n in "${sizes[@]}"; do
	f="$tmp/stack-$n.yaml"
	/usr/bin/python3 bench/gen_stack.py "$n" >"$f"
	"$B/cairn" validate "$f" >/dev/null 2>"$tmp/err" || {
		echo "validate of $n resources failed:"; head "$tmp/err"; exit 1; }
	read -r ms rss < <(measure "$B/cairn" validate "$f")
	printf '%9s %10s %14s %9s\n' "$n" "$ms" "$rss" "$(($(stat -c %s "$f") / 1024))"
done
# for scale: the same binary doing nothing but start and exit
read -r ms rss < <(measure "$B/cairn" --version)
printf '%9s %10s %14s\n' "(startup)" "$ms" "$rss"
