#!/usr/bin/python3
"""Writes an N-resource CloudFormation stack (YAML) to stdout for the
`validate` benchmark: one VPC with its gateway, then repeating groups of
subnet, security group, log group and route table that use Ref, GetAtt,
Sub, Select/GetAZs, Fn::If and DependsOn, so evaluation, schema checks and
the graph all do real work.

Subnets are /28s of the VPC's 10.0.0.0/16 (4096 of them fit), so the
stack is appliable against the emulator at any N up to ~16000.

--mixed writes instead an appliable stack of the types a real service
stack holds, for the refresh/drift benchmarks: a VPC, an ECS cluster, one
Fargate task definition with its execution role, one customer managed
policy, then repeating groups of ten: a subnet, a security group with an
ingress rule, four log groups, an IAM role with an inline policy and the
managed policy attached, an ECR repository, a secret, and an ECS service
(desired count 0) in the subnet and group.

usage: bench/gen_stack.py [--mixed] N > stack.yaml
"""
import sys


def subnet_cidr(k):
    """The k-th /28 of 10.0.0.0/16 (k < 4096)."""
    return "10.0.%d.%d/28" % (k // 16 % 256, k % 16 * 16)


def mixed(n):
    out = []
    w = out.append
    w('AWSTemplateFormatVersion: "2010-09-09"')
    w("Description: generated mixed benchmark stack with %d resources" % n)
    w("Resources:")
    w("  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: 10.0.0.0/16")
    w("  Cluster:\n    Type: AWS::ECS::Cluster")
    w("  ExecRole:\n    Type: AWS::IAM::Role\n    Properties:")
    w("      AssumeRolePolicyDocument:\n        Version: '2012-10-17'")
    w("        Statement:\n          - Effect: Allow\n            Principal:")
    w("              Service: ecs-tasks.amazonaws.com\n            Action: sts:AssumeRole")
    w("  Shared:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:")
    w("      PolicyDocument:\n        Version: '2012-10-17'")
    w("        Statement:\n          - Effect: Allow\n            Action: logs:PutLogEvents")
    w("            Resource: '*'")
    w("  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:")
    w("      Family: !Sub '${AWS::StackName}-bench'\n      RequiresCompatibilities: [FARGATE]")
    w("      NetworkMode: awsvpc\n      Cpu: '256'\n      Memory: '512'")
    w("      ExecutionRoleArn: !GetAtt ExecRole.Arn\n      ContainerDefinitions:")
    w("        - Name: app\n          Image: public.ecr.aws/docker/library/busybox:latest")
    w("          Essential: true")
    made, i = 5, 0
    while made < n:
        kind = i % 10
        g = i // 10
        if kind == 0:
            w("  Subnet%d:\n    Type: AWS::EC2::Subnet\n    Properties:" % g)
            w("      VpcId: !Ref Vpc\n      CidrBlock: %s" % subnet_cidr(g))
        elif kind == 1:
            w("  Sg%d:\n    Type: AWS::EC2::SecurityGroup\n    Properties:" % g)
            w("      GroupDescription: bench group %d\n      VpcId: !Ref Vpc" % g)
            w("      SecurityGroupIngress:\n        - IpProtocol: tcp")
            w("          FromPort: 443\n          ToPort: 443\n          CidrIp: 10.0.0.0/16")
        elif kind <= 5:
            w("  Logs%d:\n    Type: AWS::Logs::LogGroup\n    Properties:" % i)
            w("      LogGroupName: !Sub '/bench/${AWS::StackName}/%d'" % i)
            w("      RetentionInDays: 7\n      Tags:\n        - Key: team")
            w("          Value: bench")
        elif kind == 6:
            w("  Role%d:\n    Type: AWS::IAM::Role\n    Properties:" % g)
            w("      AssumeRolePolicyDocument:\n        Version: '2012-10-17'")
            w("        Statement:\n          - Effect: Allow\n            Principal:")
            w("              Service: ecs-tasks.amazonaws.com")
            w("            Action: sts:AssumeRole")
            w("      ManagedPolicyArns: [!Ref Shared]\n      Policies:")
            w("        - PolicyName: read\n          PolicyDocument:")
            w("            Version: '2012-10-17'\n            Statement:")
            w("              - Effect: Allow\n                Action: s3:GetObject")
            w("                Resource: 'arn:aws:s3:::bench-%d/*'" % g)
        elif kind == 7:
            w("  Repo%d:\n    Type: AWS::ECR::Repository\n    Properties:" % g)
            w("      RepositoryName: !Sub 'bench/${AWS::StackName}/r%d'" % g)
        elif kind == 8:
            w("  Secret%d:\n    Type: AWS::SecretsManager::Secret\n    Properties:" % g)
            w("      Name: !Sub 'bench/${AWS::StackName}/s%d'" % g)
            w("      SecretString: not-a-real-secret-%d" % g)
        else:
            w("  Svc%d:\n    Type: AWS::ECS::Service\n    Properties:" % g)
            w("      Cluster: !Ref Cluster\n      TaskDefinition: !Ref Task")
            w("      LaunchType: FARGATE\n      DesiredCount: 0")
            w("      NetworkConfiguration:\n        AwsvpcConfiguration:")
            w("          AssignPublicIp: DISABLED")
            w("          Subnets: [!Ref Subnet%d]\n          SecurityGroups: [!Ref Sg%d]"
              % (g, g))
        made += 1
        i += 1
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def main():
    args = sys.argv[1:]
    is_mixed = bool(args) and args[0] == "--mixed"
    if is_mixed:
        args = args[1:]
    if len(args) != 1 or not args[0].isdigit() or int(args[0]) < (6 if is_mixed else 3):
        sys.stderr.write("usage: gen_stack.py [--mixed] N (N >= 3; --mixed: N >= 6)\n")
        return 2
    n = int(args[0])
    if is_mixed:
        return mixed(n)
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
            w("      CidrBlock: %s" % subnet_cidr(i // 4))
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
