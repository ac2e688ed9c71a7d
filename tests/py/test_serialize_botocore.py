"""cairn's request serialisers against botocore's, on inputs generated from
the service models: for every operation cairn's providers use (docs/aws-behaviour.md,
"Per type"), random parameters that follow the operation's input shape
(nested structures, lists, maps, strings with reserved characters, numbers,
booleans) are serialised by botocore (botocore.serialize) and by cairn
(the aws_ser_driver test driver). EC2 and Query bodies must be the very
bytes botocore sends (its AWSRequest preparation form-encodes the serialised
dict: space as '+', "-_.~" kept, parameters in the order of the input);
JSON bodies the same document.

Timestamps and blobs are left out: providers pass them preformatted.
"""
import json
import os
import random
import subprocess
import botocore.session
import pytest
from botocore import serialize
from botocore.awsrequest import AWSRequest

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


def botocore_bytes(svc, op, params):
    """The body bytes botocore puts on the wire for a Query/EC2 call."""
    body = botocore_body(svc, op, params)
    prepared = AWSRequest(method="POST", url="https://example.com/", data=body).prepare()
    out = prepared.body
    return out.encode() if isinstance(out, str) else out


def cairn_bodies(cases):
    inp = "".join(json.dumps({"service": s, "op": o, "params": p}) + "\n"
                  for s, o, p in cases)
    out = subprocess.run([driver()], input=inp.encode(), capture_output=True,
                         timeout=120).stdout.split(b"\n")
    return out


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
    out = cairn_bodies(CASES)
    bad = []
    for i, (svc, op, params) in enumerate(CASES):
        got = out[i]
        if PROTOCOL[svc] == "json":
            want = botocore_body(svc, op, params)
            ok = not got.startswith(b"ERROR") and json.loads(got) == json.loads(want or b"{}")
        else:
            want = botocore_bytes(svc, op, params)
            ok = got == want
        if not ok:
            bad.append((svc, op, json.dumps(params)[:300], want[:400], got[:400]))
    assert not bad, f"{len(bad)} of {len(CASES)} differ; first: {bad[0]}"


# What the providers really send, with values that tell the encodings apart:
# spaces, unicode, reserved characters, in the order the providers build them.
PINNED = [
    ("iam", "CreateRole", {
        "RoleName": "app-Role-1A2B",
        "AssumeRolePolicyDocument": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                                    '"Principal":{"Service":"ecs-tasks.amazonaws.com"},'
                                    '"Action":"sts:AssumeRole"}]}',
        "Description": "Task role for the caf\u00e9 worker \u2713 (a+b=c; 50% ~done)",
        "MaxSessionDuration": 3600,
        "Path": "/",
        "Tags": [{"Key": "cairn:stack", "Value": "my stack"},
                 {"Key": "cairn:logical-id", "Value": "Role"}]}),
    ("iam", "PutRolePolicy", {
        "RoleName": "r", "PolicyName": "inline one",
        "PolicyDocument": '{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'}),
    ("iam", "TagRole", {"RoleName": "r", "Tags": []}),
    ("ec2", "CreateSecurityGroup", {
        "GroupName": "stack-Sg-XYZ", "Description": "Worker SG: egress only, \u00e9t\u00e9",
        "VpcId": "vpc-0abc",
        "TagSpecifications": [{"ResourceType": "security-group", "Tags": [
            {"Key": "cairn:stack", "Value": "stack"},
            {"Key": "Name", "Value": "worker sg / prod"}]}]}),
    ("ec2", "AuthorizeSecurityGroupIngress", {
        "GroupId": "sg-0123",
        "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                           "IpRanges": [{"CidrIp": "10.0.0.0/16",
                                         "Description": "HTTPS from the VPC"}],
                           "UserIdGroupPairs": [{"GroupId": "sg-0456",
                                                 "Description": "peer group"}]}],
        "TagSpecifications": [{"ResourceType": "security-group-rule",
                               "Tags": [{"Key": "k", "Value": "v w"}]}]}),
    ("ec2", "CreateVpc", {"CidrBlock": "10.0.0.0/16", "AmazonProvidedIpv6CidrBlock": False,
                          "TagSpecifications": [{"ResourceType": "vpc", "Tags": []}]}),
    ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::123456789012:role/deploy",
                           "RoleSessionName": "cairn-1", "DurationSeconds": 900}),
]


@pytest.mark.parametrize("svc,op,params", PINNED, ids=[f"{s}:{o}" for s, o, _ in PINNED])
def test_pinned_bodies_are_botocore_bytes(svc, op, params):
    got = cairn_bodies([(svc, op, params)])[0]
    want = botocore_bytes(svc, op, params)
    assert got == want
    if "Description" in params:
        assert b"+" in got and b"%20" not in got
