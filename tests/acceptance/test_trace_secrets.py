"""The trace log (CAIRN_LOG=trace) shows every request and response body, yet
no secret may reach it: the value of a NoEcho parameter (hidden for the whole
run, also where AWS answers it back: a task definition's environment, a
parameter's value, a tag), an instance's user data (RunInstances and the
instance attribute reads, where the value is base64), and a dynamic
reference's value read back by a refresh. Each value is checked in the
forms it could take in a body: as written, JSON-escaped, form-encoded and
base64."""
import base64
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'emulator'))
from emu.services.ssm import PUBLIC_AMIS  # noqa: E402

AL2023 = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'
API_KEY = 'pnu_Kq7/Zr+9x "quoted" & more=yes'
TAG_KEY = 'pnu_Tag+Value/9x=Rw2m'
DB_PW = 'dbpw-Tt6c-from-secrets-manager-42'

TPL = """Parameters:
  ApiKey: {Type: String, NoEcho: true}
  TagKey: {Type: String, NoEcho: true}
  Ami: {Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', Default: %s}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.7.0.0/16}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.7.1.0/24}
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref Ami
      InstanceType: t3.micro
      SubnetId: !Ref Subnet
      UserData:
        Fn::Base64: !Sub |
          #!/bin/bash
          echo "PREFECT_API_KEY=${ApiKey}" >> /etc/prefect.env
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: cairn-trace
      RequiresCompatibilities: [FARGATE]
      NetworkMode: awsvpc
      Cpu: "256"
      Memory: "512"
      ContainerDefinitions:
        - Name: app
          Image: busybox
          Environment:
            - {Name: PREFECT_API_KEY, Value: !Ref ApiKey}
            - {Name: DB_PASSWORD, Value: "{{resolve:secretsmanager:cairn/trace/db:SecretString:password}}"}
  Copy:
    Type: AWS::SSM::Parameter
    Properties: {Name: /cairn/trace/key, Type: String, Value: !Ref ApiKey}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 1
      Tags: [{Key: api-key, Value: !Ref TagKey}]
""" % AL2023


def forms(value):
    """The shapes a value can take inside a request or response body."""
    out = {value, json.dumps(value)[1:-1], urllib.parse.quote(value, safe='-_.~'),
           urllib.parse.quote_plus(value)}
    return {f for f in out if f}


def leaks(text, values):
    return sorted({v for value in values for v in forms(value) if v in text})


def test_trace_log_hides_secrets(emu, cairn):
    emu.control('config', {'async': {'instance_start': 0.2, 'instance_stop': 0.2,
                                      'instance_terminate': 0.2}})
    sm = emu.client('secretsmanager')
    sm.create_secret(Name='cairn/trace/db', SecretString=json.dumps({'password': DB_PW}))
    emu.settle()      # past the emulator's visibility delay, as AWS's
    tpl = cairn.tmp / 'trace.yaml'
    tpl.write_text(TPL)
    common = [*cairn.endpoint, '--state', str(cairn.tmp / 's.db'),
              '--param', f'ApiKey={API_KEY}', '--param', f'TagKey={TAG_KEY}']
    trace = {'CAIRN_LOG': 'trace'}
    r = cairn('apply', str(tpl), '--auto-approve', *common, extra_env=trace)
    assert r.rc == 0, (r.out[-3000:], [l for l in r.err.splitlines() if "error" in l.lower()][-5:])
    # the log really holds the bodies that would carry the values
    for op in ('ec2:RunInstances request', 'ecs:RegisterTaskDefinition request',
               'ssm:PutParameter request', 'logs:CreateLogGroup request'):
        assert op in r.err, op
    ud = base64.b64encode(('#!/bin/bash\necho "PREFECT_API_KEY=%s" >> /etc/prefect.env\n'
                           % API_KEY).encode()).decode()
    secrets = [API_KEY, TAG_KEY, DB_PW, ud]
    assert leaks(r.out + r.err, secrets) == []
    # AWS got them
    ecs = emu.client('ecs')
    env = {e['name']: e['value'] for e in ecs.describe_task_definition(
        taskDefinition='cairn-trace')['taskDefinition']['containerDefinitions'][0]['environment']}
    assert env == {'PREFECT_API_KEY': API_KEY, 'DB_PASSWORD': DB_PW}
    assert emu.client('ssm').get_parameter(Name='/cairn/trace/key')['Parameter']['Value'] == API_KEY
    logs = emu.client('logs')
    group = [g for g in logs.describe_log_groups()['logGroups'] if 'Logs' in g['logGroupName']][0]
    assert logs.list_tags_for_resource(resourceArn=group['arn'].rstrip('*').rstrip(':'))['tags']['api-key'] == TAG_KEY
    # reads answer them back: a plan's refresh, drift
    for cmd in (['plan', '--detailed-exitcode'], ['drift']):
        p = cairn(cmd[0], str(tpl), *cmd[1:], *common, extra_env=trace)
        assert p.rc == 0, p
        assert 'ecs:DescribeTaskDefinition response' in p.err, p.err[-2000:]
        assert leaks(p.out + p.err, secrets) == [], cmd
    d = cairn('destroy', str(tpl), '--auto-approve', *common, extra_env=trace)
    assert d.rc == 0, d
    assert leaks(d.out + d.err, secrets) == []


def test_aws_error_quoting_a_no_echo_value(emu, cairn):
    """AWS names the refused value in its message (a tag failing its
    pattern): the error cairn prints shows (sensitive) in its place."""
    tpl = cairn.tmp / 'bad.yaml'
    tpl.write_text("""Parameters:
  ApiKey: {Type: String, NoEcho: true}
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      Tags: [{Key: api-key, Value: !Ref ApiKey}]
""")
    r = cairn('apply', str(tpl), '--auto-approve', *cairn.endpoint,
              '--state', str(cairn.tmp / 's.db'), '--param', f'ApiKey={API_KEY}')
    assert r.rc != 0, r
    assert 'InvalidParameterException' in r.out + r.err, r
    assert "Value '(sensitive)' at 'tags.api-key'" in r.out + r.err, r
    assert leaks(r.out + r.err, [API_KEY]) == []
