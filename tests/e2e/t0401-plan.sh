#!/bin/bash
# cairn plan through the real binary: golden outputs (empty state, and a
# state written through the state API where update, replace, delete, forget
# and no-op all appear), JSON, saved plans, exit codes, locking, secrets.
. "$CAIRN_SRC/tests/e2e/lib.sh"

G="$CAIRN_SRC/tests/golden/plan"
FIXTURE="${CAIRN_BUILD:-$CAIRN_SRC/build}/tests/unit/plan/plan_fixture"
export NO_COLOR=1
unset AWS_REGION AWS_DEFAULT_REGION
cd "$T_TMP" || exit 1
cp "$G/demo.yaml" demo.yaml
# no live reads here (no AWS): --refresh=false, except where tested
P=(--param ApiKey=new-key-456 --region us-east-1 --refresh=false)

# golden NAME FILE: compares $T_OUT with the golden file, showing the diff
golden() {
	if printf '%s\n' "$T_OUT" | diff -u "$2" - >"$T_TMP/diff"; then
		t_ok "$1"
	else
		t_fail "$1"
		sed 's/^/#   /' "$T_TMP/diff" | head -60
	fi
}

# --- empty state: everything to add, in dependency order -----------------
t_run "plan with no state" 0 "$CAIRN" plan demo.yaml "${P[@]}" --param WithBastion=yes
golden "empty-state output matches golden" "$G/demo-empty.txt"
if [ -e state ]; then t_fail "plan created state/"; else t_ok "plan did not create a state file"; fi
t_run "detailed exit code: changes" 2 "$CAIRN" plan demo.yaml "${P[@]}" --detailed-exitcode
t_nogrep "no colour when NO_COLOR is set" $'\033' "$T_OUT"
NO_COLOR= t_run "not a terminal" 0 "$CAIRN" plan demo.yaml "${P[@]}"
t_nogrep "no colour when stdout is not a terminal" $'\033' "$T_OUT"

# --- a recorded state: every action ------------------------------------------
if [ ! -x "$FIXTURE" ]; then
	t_fail "plan_fixture not built at $FIXTURE"
	t_done
	exit
fi
t_run "write the state fixture" 0 "$FIXTURE" write state/demo.db "$G/demo-state.json"
t_run "plan against the state" 0 "$CAIRN" plan demo.yaml "${P[@]}"
golden "update/replace/delete/forget/no-op output matches golden" "$G/demo-changes.txt"
t_nogrep "no secret in the output" "new-key-456|old-key-123" "$T_OUT"
if grep -aq -e old-key-123 -e new-key-456 state/demo.db; then
	t_fail "plaintext secret in the state file"
else t_ok "no plaintext secret in the state file"; fi

t_run "plan --json" 0 "$CAIRN" plan demo.yaml "${P[@]}" --json
printf '%s' "$T_OUT" >plan.json
t_run "JSON is valid and as documented" 0 /usr/bin/python3 - plan.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format_version"] == "1", d["format_version"]
assert d["stack"] == "demo"
assert d["template"]["digest"].startswith("sha256:") and len(d["template"]["digest"]) == 71
assert d["state"] == {"path": "state/demo.db", "exists": True, "serial": 13}, d["state"]
assert d["summary"] == {"add": 0, "change": 4, "replace": 3, "destroy": 2, "forget": 2, "no_op": 2}, d["summary"]
assert d["changes_present"] is True
acts = {r["logical_id"]: r["action"] for r in d["resources"]}
assert acts == {"Vpc": "no-op", "RouteTable": "no-op", "Logs": "update", "Cluster": "update",
                "TaskRole": "replace", "Repo": "update", "Secret": "update",
                "PrivateSubnet": "replace", "PrivateAssoc": "replace", "BastionLogs": "forget",
                "EgressRoute": "delete", "LegacyLogs": "forget", "EdgeTable": "delete"}, acts
res = {r["logical_id"]: r for r in d["resources"]}
tr = res["TaskRole"]["replacement"]
assert tr == {"order": "delete_before_create", "reasons": ["Path"], "conflict": "RoleName", "retain_old": True}, tr
ch = res["PrivateAssoc"]["changes"][0]
assert ch["path"] == "SubnetId" and ch["unknown"] and ch["after"] == {"$unknown": "PrivateSubnet"}, ch
assert ch["forces_replacement"] == "SubnetId"
ch = res["Secret"]["changes"][0]
assert ch["sensitive"] and ch["before"] == "(sensitive)" and ch["after"] == "(sensitive)", ch
assert res["Cluster"]["changes"][0]["path"] == "Tags[1].Value"
assert res["EgressRoute"]["reason"] == "not in the template"
assert res["BastionLogs"]["reason"] == 'condition "HasBastion" is false'
order = [r["logical_id"] for r in d["resources"]]
assert order.index("EgressRoute") < order.index("EdgeTable"), order
assert order.index("PrivateSubnet") < order.index("PrivateAssoc"), order
p = d["parameters"]["values"]
assert "value" not in p["ApiKey"] and p["ApiKey"]["sensitive"] is True
assert p["ApiKey"]["fingerprint"].startswith("hmac-sha256:")
assert p["Retention"]["value"] == 30
EOF
t_nogrep "no secret in the JSON" "new-key-456|old-key-123" "$(cat plan.json)"

t_run "plan --out" 0 "$CAIRN" plan demo.yaml "${P[@]}" --out saved.plan
t_grep "says where the plan went" "Saved the plan to saved.plan" "$T_OUT"
t_grep "saved plan is mode 0600" "^600$" "$(stat -c %a saved.plan)"
t_nogrep "no secret in the saved plan" "new-key-456|old-key-123" "$(cat saved.plan)"
t_grep "saved plan binds the digest" "$(sha256sum demo.yaml | cut -c1-64)" "$(cat saved.plan)"

t_run "detailed exit code: changes present" 2 "$CAIRN" plan demo.yaml "${P[@]}" --detailed-exitcode
# the default refresh reads AWS: with nothing listening it fails clearly
t_run "refresh with AWS unreachable is an error" 1 env AWS_ACCESS_KEY_ID=AKIDEXAMPLE \
	AWS_SECRET_ACCESS_KEY=secret AWS_PROFILE= AWS_CONFIG_FILE=/dev/null \
	AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	"$CAIRN" plan demo.yaml --param ApiKey=x --region us-east-1 \
	--endpoint-url http://127.0.0.1:9 --max-attempts 1 --request-timeout 5
t_grep "...that names the way out" "refresh=false" "$T_ERR"

# --- a state that matches: no changes -------------------------------------
mkdir match && cp demo.yaml match/
(cd match && "$FIXTURE" write state/demo.db "$G/demo-state-match.json") >/dev/null
t_run "matching state: no changes, exit 0" 0 "$CAIRN" plan match/demo.yaml "${P[@]}" \
	--state match/state/demo.db --detailed-exitcode
t_grep "says there is nothing to do" "^No changes. Your infrastructure matches the template.$" "$T_OUT"
t_run "a state of another stack is refused" 1 "$CAIRN" plan match/demo.yaml "${P[@]}" \
	--state match/state/demo.db --stack other
t_grep "...saying whose it is" "belongs to stack \"demo\", not \"other\"" "$T_ERR"
t_run "a changed secret is still detected" 2 "$CAIRN" plan match/demo.yaml --param ApiKey=rotated \
	--region us-east-1 --refresh=false --state match/state/demo.db --detailed-exitcode
t_grep "...as a sensitive update" "~ SecretString: \(sensitive\) -> \(sensitive\)" "$T_OUT"
t_grep "...and only that" "^Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.$" "$T_OUT"

# --- locking ----------------------------------------------------------------
"$FIXTURE" lock state/demo.db 4 >lock.out 2>&1 &
HOLDER=$!
for _ in $(seq 100); do grep -q locked lock.out && break; sleep 0.1; done
t_grep "the fixture holds the lock" "^locked" "$(cat lock.out)"
t_run "plan waits for no one: a held lock is an error" 1 "$CAIRN" plan demo.yaml "${P[@]}"
t_grep "names the holder" "locked by .*plan_fixture lock" "$T_ERR"
t_run "--lock=false plans anyway" 0 "$CAIRN" plan demo.yaml "${P[@]}" --lock=false
t_run "--lock-timeout waits for the holder" 0 "$CAIRN" plan demo.yaml "${P[@]}" --lock-timeout 20s
wait "$HOLDER"

# --- errors -----------------------------------------------------------------
t_run "missing NoEcho parameter" 1 "$CAIRN" plan demo.yaml --region us-east-1
t_grep "names it with file:line:col" "demo.yaml:[0-9]+:[0-9]+: error: .*ApiKey" "$T_ERR"
t_run "errors are 1 with --detailed-exitcode" 1 "$CAIRN" plan demo.yaml --detailed-exitcode
t_run "usage error" 2 "$CAIRN" plan demo.yaml --lock=maybe
t_run "usage error with --detailed-exitcode is 1" 1 "$CAIRN" plan --detailed-exitcode demo.yaml --bogus
t_run "no template" 2 "$CAIRN" plan
t_run "missing template file" 1 "$CAIRN" plan nope.yaml
printf 'not a state' >bad.db
t_run "a damaged state is an error" 1 "$CAIRN" plan demo.yaml "${P[@]}" --state bad.db
t_done
