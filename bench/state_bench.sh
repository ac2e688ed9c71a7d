#!/bin/bash
# Benchmark of the SQLite state (not a timed test): the cost of one
# resource write under synchronous=FULL (cairn's choice) and NORMAL, and the
# time to load 1000 and 5000 resources.
#
#   bench/state_bench.sh [DIR]
#
# Builds bench/state_bench.c with -O2 and no sanitizers straight from the
# sources (src/util, src/state), so the figures do not depend on how a meson
# build directory was configured. DIR (default: a temporary directory) is
# where the databases go: put it on the disk you care about, since
# synchronous=FULL costs one fsync per write.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dir=${1:-$work}
mkdir -p "$dir"

cc -O2 -std=c11 -D_GNU_SOURCE -I"$src/include" $(pkg-config --cflags libcjson) \
	"$src"/src/util/*.c "$src"/src/state/*.c "$src/bench/state_bench.c" \
	$(pkg-config --libs sqlite3 libcrypto libcjson) -lm -lpthread \
	-o "$work/state_bench"

echo "# cairn state benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(uname -srm)"
echo "# sqlite $(pkg-config --modversion sqlite3); databases in $dir ($(df -PT "$dir" | awk 'NR==2 {print $2}'))"
rm -f "$dir"/write-*.db* "$dir"/load-*.db*
"$work/state_bench" write "$dir" 500 full
"$work/state_bench" write "$dir" 500 normal
"$work/state_bench" load "$dir" 1000
"$work/state_bench" load "$dir" 5000
rm -f "$dir"/write-*.db* "$dir"/load-*.db*
