#!/bin/bash
# The repository stands alone: no file refers to a folder beside the checkout
# (the "shared" notes the project started from) or to files that only exist
# there. What the code relies on lives in docs/ (design.md, aws-behaviour.md).
. "$(dirname "$0")/lib.sh"

cd "$CAIRN_SRC" || exit 1
# the files of the repository: git's list when this is a checkout, else a walk
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -co --exclude-standard -z | grep -zv "^tests/e2e/t0901-self-contained.sh$" >"$T_TMP/files"
else
	find . -path ./.git -prune -o -path './build*' -prune -o -type f -print0 |
		sed -z 's|^\./||' | grep -zv "^tests/e2e/t0901-self-contained.sh$" >"$T_TMP/files"
fi
t_grep "the tree lists files" 'meson.build' "$(tr '\0' '\n' <"$T_TMP/files")"

# built from pieces so that this script does not match itself
up='\.\./'
sh='shared'
pat="(${up}${sh}|/work/${sh}|(^|[^_a-zA-Z])${sh}/(AWS-NOTES|DESIGN|STYLE|aws-schemas|hooks)|AWS-NOTES|(^|[^/a-z])(DESIGN|STYLE)\.md)"
# binary files (schemas are JSON text, so they are searched too) are skipped
hits=$(xargs -0 grep -InE -- "$pat" <"$T_TMP/files" 2>/dev/null)
if [ -z "$hits" ]; then
	t_ok "no file refers to the notes outside the repository"
else
	t_fail "files refer to the notes outside the repository"
	printf '%s\n' "$hits" | sed 's/^/#   /' | head -40
fi

# the check itself finds such a reference (so it cannot pass vacuously)
printf 'see ../%s/AWS-NOTES.md\n' "$sh" >"$T_TMP/probe.c"
t_grep "the pattern catches a planted reference" "$pat" "$(cat "$T_TMP/probe.c")"

# what replaced them is there
for f in docs/design.md docs/aws-behaviour.md tests/py/data/aws-error-classes.txt; do
	if [ -s "$f" ]; then t_ok "$f exists"; else t_fail "$f missing"; fi
done
t_done
