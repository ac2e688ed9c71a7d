#!/usr/bin/python3
"""Writes, as a plan_fixture JSON document, the state that a successful
apply of `bench/gen_stack.py N` would have recorded (stack STACK, region
us-east-1, parameters at their defaults), so that `cairn plan` of that stack
finds no changes. Mirrors gen_stack.py resource by resource: keep the two in
step (bench/plan_bench.sh checks that the plan is empty).

usage: bench/plan_state.py N STACK > state.json
"""
import json
import sys


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 3:
        sys.stderr.write("usage: plan_state.py N STACK (N >= 3)\n")
        return 2
    n, stack = int(sys.argv[1]), sys.argv[2]
    vpc = "vpc-0bench"
    res = [
        {"logical_id": "Vpc", "type": "AWS::EC2::VPC", "physical_id": vpc,
         "properties": {"CidrBlock": "10.0.0.0/16", "EnableDnsSupport": True,
                        "EnableDnsHostnames": True},
         "attributes": {"CidrBlock": "10.0.0.0/16"}},
        {"logical_id": "Igw", "type": "AWS::EC2::InternetGateway",
         "physical_id": "igw-0bench", "properties": {}},
        {"logical_id": "Attach", "type": "AWS::EC2::VPCGatewayAttachment",
         "physical_id": "IGW|" + vpc, "dependencies": ["Vpc", "Igw"],
         "properties": {"VpcId": vpc, "InternetGatewayId": "igw-0bench"}},
    ]
    made, i = 3, 0
    while made < n:
        kind = i % 4
        if kind == 0:
            r = {"logical_id": "Subnet%d" % i, "type": "AWS::EC2::Subnet",
                 "physical_id": "subnet-%08x" % i, "dependencies": ["Vpc"],
                 "properties": {
                     "VpcId": vpc,
                     "CidrBlock": "10.0.%d.%d/28" % (i // 4 // 16 % 256,
                                                     i // 4 % 16 * 16),
                     "AvailabilityZone": "us-east-1" + "abc"[i % 3],
                     "Tags": [{"Key": "Name",
                               "Value": "%s-bench-subnet-%d" % (stack, i)}]}}
        elif kind == 1:
            r = {"logical_id": "Sg%d" % i, "type": "AWS::EC2::SecurityGroup",
                 "physical_id": "sg-%08x" % i, "dependencies": ["Vpc"],
                 "properties": {
                     "GroupDescription": "group %d in %s" % (i, vpc),
                     "VpcId": vpc,
                     "SecurityGroupIngress": [{
                         "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                         "CidrIp": "10.0.0.0/16"}]}}
        elif kind == 2:
            r = {"logical_id": "Logs%d" % i, "type": "AWS::Logs::LogGroup",
                 "physical_id": "/bench/bench/%d" % i,
                 "properties": {"LogGroupName": "/bench/bench/%d" % i,
                                "RetentionInDays": 7}}
        else:
            r = {"logical_id": "Rt%d" % i, "type": "AWS::EC2::RouteTable",
                 "physical_id": "rtb-%08x" % i,
                 "dependencies": ["Vpc", "Attach", "Subnet%d" % (i - 3)],
                 "properties": {"VpcId": vpc}}
        res.append(r)
        made += 1
        i += 1
    json.dump({"resources": res}, sys.stdout, indent=None)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
