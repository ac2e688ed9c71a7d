"""cairn's request serialisers against botocore's, on inputs generated from
the service models: for every operation cairn's providers use (docs/aws-behaviour.md,
"Per type"), random parameters that follow the operation's input shape
(nested structures, lists, maps, strings with reserved characters, numbers,
booleans) are serialised by botocore (botocore.serialize) and by cairn
(the aws_ser_driver test driver). EC2 and Query bodies must carry the same
set of name=value pairs (order is free on the wire); JSON bodies the same
document.

Timestamps and blobs are left out: providers pass them preformatted.
"""
import json
import os
import random
import subprocess
from urllib.parse import parse_qsl

import botocore.session
import pytest
from botocore import serialize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

OPS = {
    "ec2": ["CreateVpc", "DescribeVpcs", "DeleteVpc", "ModifyVpcAttribute",
            "DescribeVpcAttribute", "CreateSubnet", "DescribeSubnets",
            "ModifySubnetAttribute", "CreateInternetGateway", "AttachInternetGateway",
            "DetachInternetGateway", "DescribeInternetGateways", "AllocateAddress",
            "DescribeAddresses", "ReleaseAddress", "CreateNatGateway",
            "DescribeNatGateways", "DeleteNatGateway", "CreateRouteTable",
            "DescribeRouteTables", "CreateRoute", "ReplaceRoute", "DeleteRoute",
            "AssociateRouteTable", "ReplaceRouteTableAssociation",
            "CreateSecurityGroup", "DescribeSecurityGroups",
            "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupEgress", "DescribeSecurityGroupRules",
            "ModifySecurityGroupRules", "UpdateSecurityGroupRuleDescriptionsIngress",
            "CreateVpcEndpoint", "DescribeVpcEndpoints", "ModifyVpcEndpoint",
            "DeleteVpcEndpoints", "RunInstances", "DescribeInstances",
            "TerminateInstances", "CreateTags", "DeleteTags",
            "DescribeAvailabilityZones", "DescribeNetworkInterfaces"],
    "iam": ["CreateRole", "GetRole", "UpdateAssumeRolePolicy", "PutRolePolicy",
            "AttachRolePolicy", "TagRole", "UntagRole", "ListAttachedRolePolicies",
            "CreatePolicy", "CreatePolicyVersion", "ListEntitiesForPolicy",
            "CreateInstanceProfile", "AddRoleToInstanceProfile"],
    "sts": ["AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity"],
    "ecs": ["CreateCluster", "RegisterTaskDefinition", "CreateService",
            "UpdateService", "DescribeServices", "TagResource"],
    "ecr": ["CreateRepository", "PutLifecyclePolicy", "DescribeRepositories"],
    "secretsmanager": ["CreateSecret", "PutSecretValue", "TagResource"],
    "logs": ["CreateLogGroup", "PutRetentionPolicy", "DescribeLogGroups", "TagResource"],
}
PROTOCOL = {"ec2": "ec2", "iam": "query", "sts": "query", "ecs": "json",
            "ecr": "json", "secretsmanager": "json", "logs": "json"}
WORDS = ["a", "vpc-0abc", "10.0.0.0/16", "a b", "x&y=z", "caf\u00e9", "",
         "Name", "arn:aws:iam::123456789012:role/r", '{"Version":"2012-10-17"}',
         "tilde~dot.dash-under_", "plus+slash/", "\u2713"]

_session = botocore.session.get_session()


def model(service):
    return _session.get_service_model(service)


def gen(shape, rnd, depth):
    t = shape.type_name
    if t == "structure":
        out = {}
        for name, m in shape.members.items():
            if m.type_name in ("timestamp", "blob") or rnd.random() < 0.35:
                continue
            if depth > 3 and m.type_name in ("structure", "list", "map"):
                continue
            out[name] = gen(m, rnd, depth + 1)
        return out
    if t == "list":
        return [gen(shape.member, rnd, depth + 1) for _ in range(rnd.randint(1, 3))]
    if t == "map":
        return {rnd.choice(["k", "key two", "t&x"]) + str(i): gen(shape.value, rnd, depth + 1)
                for i in range(rnd.randint(1, 2))}
    if t in ("integer", "long"):
        return rnd.randint(0, 65535)
    if t == "boolean":
        return rnd.random() < 0.5
    if t in ("double", "float"):
        return rnd.choice([0.5, 2.0, 10.25])
    if shape.enum:
        return rnd.choice(shape.enum)
    return rnd.choice(WORDS)


def cases(seed=9, per_op=6):
    rnd = random.Random(seed)
    out = []
    for svc, ops in OPS.items():
        sm = model(svc)
        for op in ops:
            om = sm.operation_model(op)
            for _ in range(per_op):
                params = gen(om.input_shape, rnd, 0) if om.input_shape else {}
                out.append((svc, op, params))
    return out


def botocore_body(svc, op, params):
    om = model(svc).operation_model(op)
    ser = serialize.create_serializer(PROTOCOL[svc], include_validation=False)
    req = ser.serialize_to_request(params, om)
    return req["body"]


def driver():
    build = os.environ.get("CAIRN_BUILD")
    if not build and os.environ.get("CAIRN"):
        build = os.path.dirname(os.environ["CAIRN"])
    path = os.path.join(build or os.path.join(ROOT, "build"), "tests", "unit", "aws",
                        "aws_ser_driver")
    if not os.path.exists(path):
        pytest.fail(f"serialiser driver not built: {path}")
    return path


CASES = cases()


def test_enough_cases():
    assert len(CASES) >= 300
    assert {s for s, _, _ in CASES} == set(OPS)


def test_bodies_match_botocore():
    inp = "".join(json.dumps({"service": s, "op": o, "params": p}) + "\n"
                  for s, o, p in CASES)
    out = subprocess.run([driver()], input=inp.encode(), capture_output=True,
                         timeout=120).stdout.decode().split("\n")
    bad = []
    for i, (svc, op, params) in enumerate(CASES):
        got = out[i]
        want = botocore_body(svc, op, params)
        if PROTOCOL[svc] == "json":
            ok = not got.startswith("ERROR") and json.loads(got) == json.loads(want or b"{}")
        else:
            got_pairs = sorted(parse_qsl(got, keep_blank_values=True))
            want_pairs = sorted((k, str(v)) for k, v in want.items())
            ok = got_pairs == want_pairs
            if not ok:
                want = sorted(set(want_pairs) ^ set(got_pairs))
        if not ok:
            bad.append((svc, op, json.dumps(params)[:300], str(want)[:400], got[:400]))
    assert not bad, f"{len(bad)} of {len(CASES)} differ; first: {bad[0]}"
