#!/bin/bash
# cairn state list|show|rm|history, output and unlock on a sample state
# written by tests/unit/state/state_fixture (apply does not exist yet), with
# real second processes holding the lock.
. "$(dirname "$0")/lib.sh"

FIX="${CAIRN_BUILD:?}/tests/unit/state/state_fixture"
SECRET='Fixture-Pl41ntext-Pa55word'
cd "$T_TMP" || exit 1
if [ ! -x "$FIX" ]; then
	t_fail "the fixture writer $FIX is built (ninja tests/unit/state/state_fixture)"
	t_done
	exit 1
fi

t_run "fixture writes a sample state" 0 "$FIX" write state/demo.db
t_grep "state file is mode 0600" '^600$' "$(stat -c %a state/demo.db)"
t_grep "state dir is mode 0700" '^700$' "$(stat -c %a state)"

# ---- list / show ------------------------------------------------------
t_run "state list" 0 "$CAIRN" state list --stack demo
t_grep "list has a header" '^LOGICAL ID +TYPE +PHYSICAL ID +STATUS' "$T_OUT"
t_grep "list shows the VPC" '^Vpc +AWS::EC2::VPC +vpc-0a1b2c3d +created' "$T_OUT"
t_grep "list shows the unconfirmed NAT" '^Nat +AWS::EC2::NatGateway +- +creating' "$T_OUT"
t_run "state list without --stack uses the only state" 0 "$CAIRN" state list
t_grep "... and finds it" 'Subnet' "$T_OUT"
t_run "state list --json" 0 "$CAIRN" state list --state state/demo.db --json
t_run "list JSON is valid and complete" 0 /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["version"] == 1 and d["stack"] == "demo", d
ids = [r["logical_id"] for r in d["resources"]]
assert ids == ["DbSecret", "Nat", "Subnet", "Vpc"], ids
nat = d["resources"][1]
assert nat["physical_id"] is None and nat["status"] == "creating", nat
' "$T_OUT"

t_run "state show" 0 "$CAIRN" state show Subnet --stack demo
t_grep "show names the type" '^Subnet \(AWS::EC2::Subnet\)' "$T_OUT"
t_grep "show lists dependencies" 'depends on: +Vpc' "$T_OUT"
t_grep "show prints properties" '"CidrBlock": "10.0.1.0/24"' "$T_OUT"
t_grep "show prints attributes" '"AvailabilityZone": "eu-west-1a"' "$T_OUT"
t_run "state show of a secret" 0 "$CAIRN" state show DbSecret
t_grep "secret property shows as (sensitive)" '"SecretString": "\(sensitive\)"' "$T_OUT"
t_nogrep "no plaintext in show" "$SECRET" "$T_OUT$T_ERR"
t_grep "show prints the recorded DeletionPolicy" 'policies: +DeletionPolicy Retain, UpdateReplacePolicy Delete' "$T_OUT"
t_nogrep "no fingerprint in show" 'hmac-sha256' "$T_OUT"
t_run "state show --json" 0 "$CAIRN" state show DbSecret --json
t_run "show JSON is valid, secret redacted" 0 /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["properties"] == {"Name": "demo-db", "SecretString": "(sensitive)"}, d
assert d["dependencies"] == [] and d["type"] == "AWS::SecretsManager::Secret"
assert d["deletion_policy"] == "Retain" and d["update_replace_policy"] is None
' "$T_OUT"
t_run "state show of an unknown id fails" 1 "$CAIRN" state show Nope
t_grep "... naming it and the state" 'resource "Nope" is not in state .state/demo.db.' "$T_ERR"
t_run "state show needs an id" 2 "$CAIRN" state show
t_run "state frobnicate is a usage error" 2 "$CAIRN" state frobnicate

# ---- history / output -----------------------------------------------------
t_run "state history" 0 "$CAIRN" state history
t_grep "history shows the confirmed create" 'outcome +create +Vpc .*ok +vpc-0a1b2c3d +request req-0001 +\(intent #1\)' "$T_OUT"
t_grep "history flags the open intent" 'intent +create +Nat .*token cairn-demo-Nat-7f3e +\[OPEN' "$T_OUT"
t_run "state history --json" 0 "$CAIRN" state history --json --limit 2
t_run "history JSON: newest 2, open intent flagged" 0 /usr/bin/python3 -c '
import json, sys
e = json.loads(sys.argv[1])["entries"]
assert [x["id"] for x in e] == [2, 3], e
assert e[1]["open"] is True and e[1]["client_token"] == "cairn-demo-Nat-7f3e"
assert e[1]["tags"] == {"cairn:stack": "demo", "cairn:logical-id": "Nat"}
assert e[0]["result"] == "ok" and e[0]["intent_id"] == 1
' "$T_OUT"
t_run "users can query open intents with sqlite3" 0 sqlite3 state/demo.db \
	"SELECT logical_id, client_token FROM open_intents"
t_grep "... and see the NAT" '^Nat\|cairn-demo-Nat-7f3e$' "$T_OUT"

t_run "output" 0 "$CAIRN" output
t_grep "output prints values" '^VpcId = "vpc-0a1b2c3d"$' "$T_OUT"
t_grep "output hides secrets" '^DbPassword = \(sensitive\)$' "$T_OUT"
t_run "output NAME prints the raw value" 0 "$CAIRN" output VpcId
t_grep "... raw" '^vpc-0a1b2c3d$' "$T_OUT"
t_run "output --json" 0 "$CAIRN" output --json
t_run "output JSON is valid" 0 /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["VpcId"] == {"value": "vpc-0a1b2c3d", "sensitive": False,
    "description": "the VPC", "export_name": "demo-VpcId"}, d
assert d["DbPassword"]["value"] is None and d["DbPassword"]["sensitive"] is True
assert d["SubnetIds"]["value"] == ["subnet-0e0e"]
' "$T_OUT"
t_run "output of an unknown name fails" 1 "$CAIRN" output Nope

# ---- secrets never in plaintext --------------------------------------------
all_out=$("$CAIRN" --debug state list 2>&1; "$CAIRN" --debug state show DbSecret 2>&1;
	"$CAIRN" --debug output --json 2>&1; "$CAIRN" --debug state history --json 2>&1)
t_nogrep "no plaintext in any output or debug log" "$SECRET" "$all_out"
if grep -q -a "$SECRET" state/demo.db*; then
	t_fail "plaintext secret found in the state files"
else t_ok "no plaintext secret in the state files"; fi
t_grep "the secret is stored as a fingerprint" '^\{"\$secret":"hmac-sha256:[0-9a-f]{64}"\}$' \
	"$(sqlite3 state/demo.db "SELECT json_extract(properties, '$.SecretString') FROM resources WHERE logical_id = 'DbSecret'")"

# ---- errors ---------------------------------------------------------------
t_run "missing state is an error" 1 "$CAIRN" state list --stack nope
t_grep "... naming the path" "no state found at 'state/nope.db'" "$T_ERR"
t_run "bad stack name is a usage error" 2 "$CAIRN" state list --stack ../x
t_run "bad duration is a usage error" 2 "$CAIRN" state rm Vpc --lock-timeout 5x
t_grep "... saying so" "invalid duration '5x'" "$T_ERR"
"$FIX" write state/other.db >/dev/null
t_run "two states and no --stack is a usage error" 2 "$CAIRN" state list
t_grep "... listing them" 'state/ holds .*demo.*other|state/ holds .*other.*demo' "$T_ERR"
printf 'not a database at all, only text, long enough to fill a header..........\n' >state/junk.db
t_run "a non-database is refused" 1 "$CAIRN" state list --stack junk
t_grep "... clearly" "not a valid cairn state" "$T_ERR"
"$FIX" write state/newer.db >/dev/null
sqlite3 state/newer.db "PRAGMA user_version = 99"
t_run "a newer schema is refused" 1 "$CAIRN" output --stack newer
t_grep "... asking for an upgrade" 'schema version 99, newer .*upgrade cairn' "$T_ERR"

"$FIX" write state/broken.db >/dev/null
sqlite3 state/broken.db "UPDATE resources SET attributes = '{oops' WHERE logical_id = 'Subnet'"
t_run "a damaged row is an error, not a crash" 1 "$CAIRN" state list --stack broken
t_grep "... naming the resource and the state" 'state .state/broken.db.: resource "Subnet": invalid JSON' "$T_ERR"
rm -f state/broken.db

# ---- rm -------------------------------------------------------------------
t_run "state rm of an unknown id fails" 1 "$CAIRN" state rm Subnet Nope --stack demo
t_run "... and removes nothing" 0 "$CAIRN" state show Subnet --stack demo
t_run "state rm" 0 "$CAIRN" state rm Subnet --stack demo
t_grep "... says AWS is untouched" 'Removed Subnet .*nothing was deleted in AWS' "$T_OUT"
t_grep "... warns about a dependent left in state" 'warning: Nat \(still in state\) depends on Subnet' "$T_ERR"
t_run "removed resource is gone" 1 "$CAIRN" state show Subnet --stack demo
t_run "history records the forget" 0 "$CAIRN" state history Subnet --stack demo
t_grep "... as a forget outcome" 'outcome +forget +Subnet' "$T_OUT"
t_grep "rm released its lock" '^0$' "$(sqlite3 state/demo.db 'SELECT count(*) FROM lock')"

# ---- locks: a second real process holds the lock ---------------------------------
"$FIX" hold-lock state/demo.db 3 >"$T_TMP/hold.out" &
holder=$!
for _ in $(seq 50); do grep -q locked "$T_TMP/hold.out" && break; sleep 0.1; done
lock_id=$(sed -n 's/^locked //p' "$T_TMP/hold.out")
t_grep "the holder has a lock id" '^[0-9a-f]{16}$' "$lock_id"
t_run "rm while locked fails" 1 "$CAIRN" state rm Vpc --stack demo
t_grep "... naming the holder's pid and command" "pid $holder, \"state_fixture hold-lock\"" "$T_ERR"
t_grep "... the user and since when" "locked by $(id -un)@$(hostname) .* since 20[0-9-]+T" "$T_ERR"
t_grep "... and the lock id to unlock" "cairn unlock $lock_id" "$T_ERR"
t_run "unlock with a wrong id is refused" 1 "$CAIRN" unlock 0000000000000000 --stack demo
t_grep "... saying nothing was unlocked" 'does not match.*nothing was unlocked' "$T_ERR"
t_run "rm --lock-timeout waits for the holder" 0 "$CAIRN" state rm Vpc --stack demo --lock-timeout 20s
wait "$holder"
t_run "the waiting rm did its job" 1 "$CAIRN" state show Vpc --stack demo

"$FIX" hold-lock state/demo.db 60 >"$T_TMP/hold2.out" &
holder=$!
for _ in $(seq 50); do grep -q locked "$T_TMP/hold2.out" && break; sleep 0.1; done
lock_id=$(sed -n 's/^locked //p' "$T_TMP/hold2.out")
t_run "unlock LOCK_ID breaks the lock" 0 "$CAIRN" unlock "$lock_id" --stack demo
t_grep "... and says so" "Broke lock $lock_id" "$T_OUT"
t_run "rm works at once after unlock" 0 "$CAIRN" state rm Nat --stack demo
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
t_run "unlock with no lock says so" 1 "$CAIRN" unlock "$lock_id" --stack demo
t_grep "... not locked" 'is not locked' "$T_ERR"

# a holder killed with SIGKILL: its lock is taken over (same host, no process)
# (through bash -c, whose stderr hides the shell's "Killed" report)
bash -c '"$0" crash-lock state/other.db >/dev/null 2>&1; true' "$FIX" 2>/dev/null
t_grep "the crashed holder left its lock" '^1$' "$(sqlite3 state/other.db 'SELECT count(*) FROM lock')"
t_run "rm takes over a dead holder's lock" 0 "$CAIRN" state rm Vpc --stack other
t_grep "... with a warning" 'taking over the lock .* no longer exists' "$T_ERR"
t_done
