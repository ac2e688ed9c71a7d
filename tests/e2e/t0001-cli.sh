#!/bin/bash
# The CLI's contract: --help everywhere, --version, usage errors exit 2.
. "$(dirname "$0")/lib.sh"

t_run "--version exits 0" 0 "$CAIRN" --version
t_grep "--version prints the version" '^cairn [0-9]+\.[0-9]+\.[0-9]+' "$T_OUT"
t_run "--help exits 0" 0 "$CAIRN" --help
t_grep "--help lists validate" 'validate' "$T_OUT"
t_run "no command is a usage error" 2 "$CAIRN"
t_run "unknown command is a usage error" 2 "$CAIRN" frobnicate
t_grep "unknown command is named" "'frobnicate' is not a cairn command" "$T_ERR"
for c in validate graph whoami plan apply destroy state output unlock; do
	t_run "$c --help exits 0" 0 "$CAIRN" "$c" --help
	t_grep "$c --help shows usage" "usage: cairn $c" "$T_OUT"
done
t_done
