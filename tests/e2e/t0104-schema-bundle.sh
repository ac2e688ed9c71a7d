#!/bin/bash
# The all-types schema bundle: cairn types, validate of a Cloud Control type,
# and a missing, foreign, truncated or damaged bundle: a warning and the
# native types only, never a crash.
. "$(dirname "$0")/lib.sh"

B="$CAIRN_SRC/schemas/registry/all-types.bundle"
cat >"$T_TMP/q.yaml" <<'YAML'
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.0.0.0/16
YAML

t_run "types" 0 env CAIRN_SCHEMA_BUNDLE="$B" "$CAIRN" types
t_grep "a native type" "^AWS::EC2::VPC +native$" "$T_OUT"
t_grep "a Cloud Control type" "^AWS::SQS::Queue +cloudcontrol$" "$T_OUT"
t_grep "a non-provisionable type" "^AWS::OpsWorks::Stack +not supported$" "$T_OUT"
t_grep "the summary" "^30 native, [0-9]{4} through Cloud Control, [0-9]+ not supported" "$T_OUT"
t_run "types FILTER" 0 env CAIRN_SCHEMA_BUNDLE="$B" "$CAIRN" types dynamodb
t_nogrep "the filter keeps only matches" "^AWS::(EC2|SQS)" "$T_OUT"
t_grep "the filter matches case-insensitively" "^AWS::DynamoDB::Table +cloudcontrol$" "$T_OUT"
t_run "types with a stray argument" 2 "$CAIRN" types a b
t_run "validate a Cloud Control type" 0 env CAIRN_SCHEMA_BUNDLE="$B" "$CAIRN" validate "$T_TMP/q.yaml"
t_run "schema path" 0 env CAIRN_SCHEMA_BUNDLE="$B" "$CAIRN" schema path
t_grep "schema path names the bundle and its source" "source: cfn-lint [0-9a-f]{40}" "$T_OUT"
t_run "schema without a subcommand" 2 "$CAIRN" schema
t_run "schema update without types" 2 "$CAIRN" schema update

# damaged bundles: the native types still validate, the others are unknown
t_run "missing bundle" 1 env CAIRN_SCHEMA_BUNDLE="$T_TMP/none" "$CAIRN" validate "$T_TMP/q.yaml"
t_grep "missing: the type is unsupported" 'q.yaml:3:11: error: Resources.Queue.Type: unsupported resource type "AWS::SQS::Queue"' "$T_ERR"
t_run "missing bundle: types says so" 1 env CAIRN_SCHEMA_BUNDLE="$T_TMP/none" "$CAIRN" types
t_grep "types names the problem" "no schema bundle found" "$T_ERR"
printf 'hello\n' >"$T_TMP/foreign"
t_run "foreign file" 1 env CAIRN_SCHEMA_BUNDLE="$T_TMP/foreign" "$CAIRN" validate "$T_TMP/q.yaml"
t_grep "foreign: a warning names the file" "schema bundle .*/foreign: is not a version 1 schema bundle" "$T_ERR"
head -c 300000 "$B" >"$T_TMP/truncated"
t_run "truncated bundle" 1 env CAIRN_SCHEMA_BUNDLE="$T_TMP/truncated" "$CAIRN" validate "$T_TMP/q.yaml"
t_grep "truncated: a warning" "schema bundle .*/truncated: points past its end" "$T_ERR"
# flip bytes inside the first schemas' compressed data (the index intact)
/usr/bin/python3 - "$B" "$T_TMP/damaged" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
pos, blank = 0, 0
while blank < 2:
    nl = data.index(b'\n', pos)
    blank += nl == pos
    pos = nl + 1
for i in range(pos, len(data)):
    data[i] ^= 0x5A
open(sys.argv[2], 'wb').write(data)
PY
t_run "damaged schemas" 1 env CAIRN_SCHEMA_BUNDLE="$T_TMP/damaged" "$CAIRN" validate "$T_TMP/q.yaml"
t_grep "damaged: the type's schema is reported" "AWS::SQS::Queue: damaged \(zlib" "$T_ERR"
t_nogrep "the native type still validates" "Resources.Vpc" "$T_ERR"
t_done
