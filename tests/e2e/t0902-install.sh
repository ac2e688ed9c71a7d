#!/bin/bash
# `meson install` puts the binary, one man page per command plus cairn(1),
# the bash and zsh completions and the docs under the prefix; every man page
# says exactly what --help says; the completions complete commands, options
# and logical ids (from the state, and from the template for import).
. "$(dirname "$0")/lib.sh"

: "${CAIRN_BUILD:?}"
DEST=$T_TMP/dest
t_run "meson install --destdir" 0 meson install -C "$CAIRN_BUILD" --no-rebuild --quiet --destdir "$DEST"
prefix=$(meson introspect --buildoptions "$CAIRN_BUILD" |
	/usr/bin/python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["prefix"])')
P=$DEST$prefix
BIN=$P/bin/cairn
export ASAN_OPTIONS=detect_leaks=0
t_run "the installed binary runs" 0 "$BIN" --version
t_grep "... and names its version and commit" '^cairn [0-9]+\.[0-9]+\.[0-9]+( \(git [0-9a-f]{7,}(-dirty)?\))?$' "$T_OUT"
t_run "cairn help plan" 0 "$BIN" help plan
t_grep "... is plan's --help" "^$(printf '%s' "$("$BIN" plan --help | head -n1)" | sed 's/[][|.*]/\\&/g')\$" "$T_OUT"
t_run "cairn help nosuch is a usage error" 2 "$BIN" help nosuch
for f in share/bash-completion/completions/cairn share/zsh/site-functions/_cairn \
	share/doc/cairn/README.md share/doc/cairn/design.md share/doc/cairn/aws-behaviour.md \
	share/doc/cairn/examples/vpc.yaml share/man/man1/cairn.1; do
	if [ -s "$P/$f" ]; then t_ok "installed $f"; else t_fail "installed $f"; fi
done
# the schema bundle of the Cloud Control types, found beside the binary
printf 'Resources:\n  Q:\n    Type: AWS::SQS::Queue\n' >"$T_TMP/cc.yaml"
t_run "the installed binary finds its schema bundle" 0 env -u CAIRN_SCHEMA_BUNDLE "$BIN" validate "$T_TMP/cc.yaml"
t_run "... and says where" 0 env -u CAIRN_SCHEMA_BUNDLE "$BIN" schema path
t_grep "... under share/cairn" "^bundle: $P/bin/../share/cairn/all-types.bundle$" "$T_OUT"

# ---- man pages: one per command, the same words as --help -------------
# words of a rendered page between SYNOPSIS and the first section after
# DESCRIPTION, headings left out
man_words() {
	MANWIDTH=300 man -l "$1" 2>/dev/null | col -b |
		awk -v stop="$2" '/^SYNOPSIS$/ { f = 1; next } $0 ~ "^(" stop ")$" { f = 0 } f && !/^DESCRIPTION$/' |
		tr -s ' \t\n' '\n\n\n' | sed '/^$/d'
}
help_words() { sed '1s/^usage: //' | tr -s ' \t\n' '\n\n\n' | sed '/^$/d'; }

if command -v man >/dev/null && command -v col >/dev/null; then
	cmds=$("$BIN" help --commands)
	t_grep "the command list has plan" '^plan$' "$cmds"
	for c in $cmds; do
		page=$P/share/man/man1/cairn-$c.1
		if [ ! -s "$page" ]; then t_fail "cairn-$c.1 installed"; continue; fi
		if diff <("$BIN" "$c" --help | help_words) <(man_words "$page" "SEE ALSO") >"$T_TMP/d"; then
			t_ok "cairn-$c(1) says what 'cairn $c --help' says"
		else
			t_fail "cairn-$c(1) says what 'cairn $c --help' says"
			sed 's/^/#   /' "$T_TMP/d" | head -20
		fi
	done
	if diff <("$BIN" --help | help_words) <(man_words "$P/share/man/man1/cairn.1" "ENVIRONMENT") >"$T_TMP/d"; then
		t_ok "cairn(1) says what 'cairn --help' says"
	else
		t_fail "cairn(1) says what 'cairn --help' says"
		sed 's/^/#   /' "$T_TMP/d" | head -20
	fi
	# the comparison notices a page that differs
	sed 's/^Evaluates TEMPLATE/Evaluated TEMPLATE/' "$P/share/man/man1/cairn-plan.1" >"$T_TMP/plan.1"
	if diff <("$BIN" plan --help | help_words) <(man_words "$T_TMP/plan.1" "SEE ALSO") >/dev/null; then
		t_fail "a page that differs from --help is noticed"
	else t_ok "a page that differs from --help is noticed"; fi
	t_grep "cairn(1) lists every command's page" 'cairn-import\(1\)' "$(MANWIDTH=300 man -l "$P/share/man/man1/cairn.1" 2>/dev/null | col -b)"
else
	t_fail "man and col are installed (Debian: man-db, bsdextrautils)"
fi

# ---- bash completion ----------------------------------------------------
FIX=$CAIRN_BUILD/tests/unit/state/state_fixture
cd "$T_TMP" || exit 1
t_run "a sample state" 0 "$FIX" write state/demo.db
cp "$CAIRN_SRC/examples/vpc.yaml" "$T_TMP/vpc.yaml"
# complete LINE: what the bash completion offers for LINE (cursor at its end)
complete_bash() {
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_cairn; printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$P/share/bash-completion/completions/cairn" "$@"
}
t_grep "commands" '^plan$' "$(complete_bash "$BIN" pl)"
t_nogrep "... only those that fit" '^validate$' "$(complete_bash "$BIN" pl)"
out=$(complete_bash "$BIN" plan --st)
t_grep "a command's options" '^--state$' "$out"
t_grep "... all of them" '^--stack$' "$out"
t_grep "an option's file value" '^vpc.yaml$' "$(complete_bash "$BIN" plan --params-file v)"
t_grep "state subcommands" '^show$' "$(complete_bash "$BIN" state "")"
out=$(complete_bash "$BIN" state show --stack demo "")
t_grep "state show: logical ids from the state" '^Subnet$' "$out"
t_grep "... every one" '^DbSecret$' "$out"
t_grep "state rm: logical ids from the state" '^Nat$' "$(complete_bash "$BIN" state rm --state state/demo.db N)"
t_grep "import: logical ids from the template" '^Vpc$' "$(complete_bash "$BIN" import --template vpc.yaml "")"
t_grep "a template argument is a file" '^vpc.yaml$' "$(complete_bash "$BIN" validate v)"

# ---- zsh completion: at least it parses ---------------------------------
if command -v zsh >/dev/null; then
	t_run "the zsh completion parses" 0 zsh -n "$P/share/zsh/site-functions/_cairn"
else
	t_ok "# SKIP zsh not installed"
fi
t_done
