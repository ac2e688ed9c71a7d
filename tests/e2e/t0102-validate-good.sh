#!/bin/bash
# Good templates validate clean; parameters come from --param,
# --params-file (map or CloudFormation list) and CAIRN_PARAM_<Name> with
# that precedence; graph prints DOT and JSON with implicit edges marked.
. "$(dirname "$0")/lib.sh"

G="$CAIRN_SRC/tests/templates/good"
t_run "network validates" 0 "$CAIRN" validate "$G/network.yaml"
t_grep "summary line" "^$G/network.yaml: valid \(15 resources, 1 parameters, 2 outputs\)$" "$T_OUT"
t_run "json template validates" 0 "$CAIRN" validate "$G/ecr.json"
t_grep "json summary" "valid \(1 resources, 0 parameters, 1 outputs\)" "$T_OUT"
t_run "validate --json" 0 "$CAIRN" validate --json "$G/network.yaml"
t_grep "--json valid" '"valid": true' "$T_OUT"
t_grep "--json counts" '"resources": 15' "$T_OUT"

# missing parameters are warnings for validate (and unknown values)
t_run "options without values validates" 0 "$CAIRN" validate "$G/options.yaml"
t_grep "missing Env is a warning" "options.yaml:3:3: warning: Parameters.Env: no value given and no Default" "$T_ERR"
t_grep "condition on it is flagged" "options.yaml:20:3: warning: Conditions.IsProd: depends on a parameter with no value; evaluated as false" "$T_ERR"
t_run "--param values" 0 "$CAIRN" validate --param Env=prod --param Token=abcdefgh12 "$G/options.yaml"
t_nogrep "no warning with values" "warning" "$T_ERR"
t_run "constraint from --param" 1 "$CAIRN" validate --param Env=test --param Token=abcdefgh12 "$G/options.yaml"
t_grep "AllowedValues message" "options.yaml:3:3: error: Parameters.Env: value \"test\" is not one of the AllowedValues \(dev, prod\)" "$T_ERR"
t_run "NoEcho value is never printed" 1 "$CAIRN" validate --param Env=dev --param Token=short "$G/options.yaml"
t_grep "NoEcho constraint" 'value "\(hidden\)" is shorter than MinLength 8' "$T_ERR"
t_nogrep "NoEcho value hidden" "short\"" "$T_ERR"
t_run "params file (map)" 0 "$CAIRN" validate --params-file "$G/params-map.yaml" "$G/options.yaml"
t_run "params file (list form) is checked" 1 "$CAIRN" validate --params-file "$G/params-list.json" "$G/options.yaml"
t_grep "list form value marked in its file" "params-list.json:4:[0-9]+: error: Parameters.Retention: value \"99\" is greater than MaxValue 30" "$T_ERR"
t_run "--param beats --params-file" 0 "$CAIRN" validate --params-file "$G/params-list.json" --param Retention=5 "$G/options.yaml"
t_run "environment value" 1 env CAIRN_PARAM_Env=stage "$CAIRN" validate --param Token=abcdefgh12 "$G/options.yaml"
t_grep "environment value checked" 'value "stage" is not one of' "$T_ERR"
t_run "--params-file beats environment" 0 env CAIRN_PARAM_Env=stage "$CAIRN" validate --params-file "$G/params-map.yaml" "$G/options.yaml"
t_run "undeclared environment names are ignored" 0 env CAIRN_PARAM_Other=1 "$CAIRN" validate --params-file "$G/params-map.yaml" "$G/options.yaml"
t_run "missing params file" 1 "$CAIRN" validate --params-file "$T_TMP/none.yaml" "$G/options.yaml"
t_grep "missing params file message" "cannot read parameters file" "$T_ERR"
printf 'Env: {nested: map}\nToken: abcdefgh12\n' >"$T_TMP/bad-params.yaml"
t_run "params file with a map value" 1 "$CAIRN" validate --params-file "$T_TMP/bad-params.yaml" "$G/options.yaml"
t_grep "params file problem has its position" "bad-params.yaml:1:6: error: parameter \"Env\": the value must be a string, a number or a list" "$T_ERR"
printf 'Env: [unclosed\n' >"$T_TMP/broken-params.yaml"
t_run "malformed params file" 1 "$CAIRN" validate --params-file "$T_TMP/broken-params.yaml" "$G/options.yaml"
t_grep "malformed params file position" "broken-params.yaml:2:1: error: malformed YAML" "$T_ERR"
# the region: --region, else AWS_REGION, else AWS_DEFAULT_REGION, else
# us-east-1 (seen through a condition that exposes a bad property)
cat >"$T_TMP/region.yaml" <<'YAML'
Conditions:
  InEu: !Equals [!Ref AWS::Region, eu-west-1]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !If [InEu, not-a-cidr, 10.0.0.0/16]
YAML
t_run "default region is us-east-1" 0 env -u AWS_REGION -u AWS_DEFAULT_REGION "$CAIRN" validate "$T_TMP/region.yaml"
t_run "AWS_DEFAULT_REGION is used" 1 env -u AWS_REGION AWS_DEFAULT_REGION=eu-west-1 "$CAIRN" validate "$T_TMP/region.yaml"
t_run "AWS_REGION beats AWS_DEFAULT_REGION" 0 env AWS_REGION=us-west-2 AWS_DEFAULT_REGION=eu-west-1 "$CAIRN" validate "$T_TMP/region.yaml"
t_run "--region beats AWS_REGION" 1 env AWS_REGION=us-west-2 "$CAIRN" validate --region eu-west-1 "$T_TMP/region.yaml"
t_grep "region-dependent error" "region.yaml:7:29: error: Resources.Vpc.Properties.CidrBlock: value \"not-a-cidr\"" "$T_ERR"
t_run "--region us-west-2" 0 "$CAIRN" validate --region us-west-2 --account 210987654321 --stack demo "$G/network.yaml"

# graph
t_run "graph dot" 0 "$CAIRN" graph "$G/network.yaml"
t_grep "dot header" "^digraph cairn \{" "$T_OUT"
t_grep "explicit edge" '"Attach" -> "Vpc";' "$T_OUT"
t_grep "implicit NAT edge dashed" '"Nat" -> "Attach" \[style=dashed, label="a NAT gateway needs' "$T_OUT"
t_grep "implicit route edge" '"PublicRoute" -> "Attach" \[style=dashed' "$T_OUT"
t_grep "implicit EIP edge" '"Eip" -> "Attach" \[style=dashed' "$T_OUT"
t_grep "implicit awslogs edge" '"Task" -> "Logs" \[style=dashed' "$T_OUT"
t_nogrep "no implicit edge for the private route" '"PrivateRoute" -> "Attach"' "$T_OUT"
t_run "graph json" 0 "$CAIRN" graph --format json "$G/network.yaml"
if /usr/bin/python3 - "$T_TMP/out" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
ids = [n["id"] for n in g["nodes"]]
assert len(ids) == 15, ids
order = g["order"]
assert sorted(order) == sorted(ids)
for e in g["edges"]:
    assert order.index(e["from"]) > order.index(e["to"]), e
imp = {(e["from"], e["to"]) for e in g["edges"] if e["implicit"]}
assert ("Nat", "Attach") in imp and ("Task", "Logs") in imp, imp
vpc = [n for n in g["nodes"] if n["id"] == "Vpc"][0]
assert vpc["longest_path"] == 4, vpc
PY
then t_ok "graph json is consistent (order, implicit edges, longest path)"
else t_fail "graph json is consistent (order, implicit edges, longest path)"; fi
# CommaDelimitedList / List<Number> with AllowedValues or AllowedPattern:
# each element is checked (space trimmed), as CloudFormation does since
# December 2022 (docs/cloudformation-compat.md cites the sources)
C="$G/cdl-allowed.yaml"
t_run "list parameters: defaults pass element by element" 0 "$CAIRN" validate "$C"
t_run "list parameters: given values pass" 0 "$CAIRN" validate --param "Envs= stage ,prod" --param Zones=f --param Ports=8080,80 "$C"
t_run "list parameters: a bad element fails" 1 "$CAIRN" validate --param "Envs=dev,qa, prod" --param Zones=a,bb --param Ports=80,81 "$C"
t_grep "the element not allowed is named" 'cdl-allowed.yaml:5:3: error: Parameters.Envs: value "qa" is not one of the AllowedValues \(dev, stage, prod\)' "$T_ERR"
t_grep "AllowedPattern per element" 'Parameters.Zones: value "bb" does not match AllowedPattern "\[a-f\]": one zone letter per element' "$T_ERR"
t_grep "List<Number> per element" 'Parameters.Ports: value "81" is not one of the AllowedValues \(80, 443, 8080\)' "$T_ERR"
t_nogrep "allowed elements are not reported" 'value "(dev|prod|a|80)"' "$T_ERR"
t_run "list parameters: the whole string is not an element" 1 "$CAIRN" validate --param "Zones=a,b,c,dd" "$C"
t_grep "only the bad element" 'value "dd" does not match' "$T_ERR"
t_done
