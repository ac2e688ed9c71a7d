#!/bin/bash
# cairn plan of the shipped stacks with no state: everything to add, in
# dependency order, compared with reviewed golden files
# (tests/golden/plan/<stack>.txt). When a stack changes on purpose, review
# the new output line by line before replacing its golden file.
. "$CAIRN_SRC/tests/e2e/lib.sh"

G="$CAIRN_SRC/tests/golden/plan"
export NO_COLOR=1
unset AWS_REGION AWS_DEFAULT_REGION
cd "$T_TMP" || exit 1
KEY=pnu_0123456789abcdefghijklmnopqrstuv
URL=https://api.prefect.cloud/api/accounts/0000/workspaces/1111

for stack in prefect-ecs-worker prefect-agent-dedicated-ip; do
	t_run "$stack: plan with no state" 0 "$CAIRN" plan "$CAIRN_SRC/stacks/$stack.yaml" \
		--param PrefectApiKey=$KEY --param PrefectApiUrl=$URL --region us-east-1
	if printf '%s\n' "$T_OUT" | diff -u "$G/$stack.txt" - >"$T_TMP/diff"; then
		t_ok "$stack: output matches golden"
	else
		t_fail "$stack: output matches golden"
		sed 's/^/#   /' "$T_TMP/diff" | head -60
	fi
	t_nogrep "$stack: the API key is not shown" "$KEY" "$T_OUT"
	t_run "$stack: JSON" 0 "$CAIRN" plan "$CAIRN_SRC/stacks/$stack.yaml" --json \
		--param PrefectApiKey=$KEY --param PrefectApiUrl=$URL --region us-east-1
	t_nogrep "$stack: the API key is not in the JSON" "$KEY" "$T_OUT"
	printf '%s' "$T_OUT" >plan.json
	# every resource is created after all of its dependencies
	t_run "$stack: creates come in dependency order" 0 /usr/bin/python3 -c '
import json, sys
d = json.load(open("plan.json"))
seen = set()
for r in d["resources"]:
    assert r["action"] == "create", r
    for dep in r["depends_on"]:
        assert dep in seen, (r["logical_id"], "before", dep)
    seen.add(r["logical_id"])
assert d["summary"]["add"] == len(d["resources"]) > 20
'
	if [ -e state ]; then t_fail "$stack: plan created state/"; else t_ok "$stack: no state file created"; fi
done
t_done
