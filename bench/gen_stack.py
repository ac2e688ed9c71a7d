#!/usr/bin/python3
"""Writes an N-resource CloudFormation stack (YAML) to stdout for the
`validate` benchmark: one VPC with its gateway, then repeating groups of
subnet, security group, log group and route table that use Ref, GetAtt,
Sub, Select/GetAZs, Fn::If and DependsOn, so evaluation, schema checks and
the graph all do real work.

usage: bench/gen_stack.py N > stack.yaml
"""
import sys


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 3:
        sys.stderr.write("usage: gen_stack.py N (N >= 3)\n")
        return 2
    n = int(sys.argv[1])
    out = []
    w = out.append
    w('AWSTemplateFormatVersion: "2010-09-09"')
    w("Description: generated benchmark stack with %d resources" % n)
    w("Parameters:")
    w("  Env:")
    w("    Type: String")
    w("    Default: bench")
    w("    AllowedPattern: '[a-z][a-z0-9-]*'")
    w("  Retention:")
    w("    Type: Number")
    w("    Default: 7")
    w("    MinValue: 1")
    w("Conditions:")
    w("  IsProd: !Equals [!Ref Env, prod]")
    w("Resources:")
    w("  Vpc:")
    w("    Type: AWS::EC2::VPC")
    w("    Properties:")
    w("      CidrBlock: 10.0.0.0/16")
    w("      EnableDnsSupport: true")
    w("      EnableDnsHostnames: true")
    w("  Igw:")
    w("    Type: AWS::EC2::InternetGateway")
    w("  Attach:")
    w("    Type: AWS::EC2::VPCGatewayAttachment")
    w("    Properties:")
    w("      VpcId: !Ref Vpc")
    w("      InternetGatewayId: !Ref Igw")
    made = 3
    i = 0
    while made < n:
        kind = i % 4
        if kind == 0:
            w("  Subnet%d:" % i)
            w("    Type: AWS::EC2::Subnet")
            w("    Properties:")
            w("      VpcId: !Ref Vpc")
            w("      CidrBlock: 10.%d.%d.0/24" % (i // 256 % 256, i % 256))
            w("      AvailabilityZone: !Select [%d, !GetAZs '']" % (i % 3))
            w("      Tags:")
            w("        - Key: Name")
            w("          Value: !Sub '${AWS::StackName}-${Env}-subnet-%d'" % i)
        elif kind == 1:
            w("  Sg%d:" % i)
            w("    Type: AWS::EC2::SecurityGroup")
            w("    Properties:")
            w("      GroupDescription: !Sub 'group %d in ${Vpc}'" % i)
            w("      VpcId: !Ref Vpc")
            w("      SecurityGroupIngress:")
            w("        - IpProtocol: tcp")
            w("          FromPort: 443")
            w("          ToPort: 443")
            w("          CidrIp: !GetAtt Vpc.CidrBlock")
        elif kind == 2:
            w("  Logs%d:" % i)
            w("    Type: AWS::Logs::LogGroup")
            w("    Properties:")
            w("      LogGroupName: !Sub '/bench/${Env}/%d'" % i)
            w("      RetentionInDays: !If [IsProd, 30, !Ref Retention]")
        else:
            w("  Rt%d:" % i)
            w("    Type: AWS::EC2::RouteTable")
            w("    DependsOn: [Attach, Subnet%d]" % (i - 3))
            w("    Properties:")
            w("      VpcId: !Ref Vpc")
        made += 1
        i += 1
    w("Outputs:")
    w("  VpcId:")
    w("    Value: !Ref Vpc")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
