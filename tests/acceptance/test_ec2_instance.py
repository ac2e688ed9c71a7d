"""AWS::EC2::Instance and AWS::EC2::KeyPair through the real binary against the
emulator: launch with ClientToken and wait running, Ref/GetAtt, the private
key only in SSM (/ec2/keypair/<id>) and never in cairn's state or output, an
InstanceType and a UserData change done as stop/modify/start (seen in the
emulator's call counters, no replacement), a create-only change (ImageId)
replaced, destroy (terminate and wait) back to the seed baseline."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'emulator'))
from emu.services.ssm import PUBLIC_AMIS  # noqa: E402

AL2023 = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'
TPL = """Parameters:
  Ami: {Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', Default: %s}
  Size: {Type: String, Default: t3.micro}
  Script: {Type: String, Default: "echo one"}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.9.0.0/16}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.9.1.0/24, MapPublicIpOnLaunch: true}
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: ssh
      VpcId: !Ref Vpc
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 203.0.113.7/32}]
  Key:
    Type: AWS::EC2::KeyPair
    Properties: {KeyName: cairn-test-key}
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref Ami
      InstanceType: !Ref Size
      KeyName: !Ref Key
      SubnetId: !Ref Subnet
      SecurityGroupIds: [!Ref Group]
      MetadataOptions: {HttpTokens: required, HttpEndpoint: enabled}
      UserData: {"Fn::Base64": !Sub "#!/bin/bash\\n${Script}\\n"}
      BlockDeviceMappings:
        - {DeviceName: /dev/xvda, Ebs: {VolumeSize: 20, VolumeType: gp3, Encrypted: true}}
      Tags: [{Key: Name, Value: cairn-host}]
  Address:
    Type: AWS::SSM::Parameter
    Properties: {Name: /cairn/host/address, Type: String, Value: !GetAtt Host.PublicIp}
Outputs:
  HostId: {Value: !Ref Host}
  PublicIp: {Value: !GetAtt Host.PublicIp}
  Zone: {Value: !GetAtt Host.AvailabilityZone}
  KeyId: {Value: !GetAtt Key.KeyPairId}
""" % AL2023


def instance(ec2, iid):
    return ec2.describe_instances(InstanceIds=[iid])['Reservations'][0]['Instances'][0]


def live_instances(emu):
    return [r['id'] for r in emu.control('inventory') if r['type'] == 'instance']


def delta(before, after):
    return {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0) > 0}


def test_instance_and_key_pair(emu, cairn):
    emu.control('config', {'async': {'instance_start': 0.2, 'instance_stop': 0.2,
                                     'instance_terminate': 0.2}})
    ec2, ssm = emu.client('ec2'), emu.client('ssm')
    tpl = cairn.tmp / 'host.yaml'
    tpl.write_text(TPL)
    db = cairn.tmp / 's.db'
    common = [*cairn.endpoint, '--state', str(db)]
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    [iid] = live_instances(emu)
    got = instance(ec2, iid)
    assert got['State']['Name'] == 'running'
    assert got['ImageId'] == PUBLIC_AMIS[AL2023]
    assert got['InstanceType'] == 't3.micro' and got['KeyName'] == 'cairn-test-key'
    assert got['MetadataOptions']['HttpTokens'] == 'required'
    assert {'Key': 'cairn:logical-id', 'Value': 'Host'} in got['Tags']
    assert got['ClientToken']
    key = ec2.describe_key_pairs(KeyNames=['cairn-test-key'])['KeyPairs'][0]
    secret = ssm.get_parameter(Name=f"/ec2/keypair/{key['KeyPairId']}",
                               WithDecryption=True)['Parameter']
    assert secret['Type'] == 'SecureString'
    material = secret['Value']
    assert material.startswith('-----BEGIN')
    # the private key is in SSM only: not in cairn's state, nor its output
    body = material.split('\n')[1]
    raw = open(db, 'rb').read()
    assert body.encode() not in raw and body not in r.out + r.err
    out = cairn('output', *common)
    assert out.rc == 0, out
    assert iid in out.out and got['PublicIpAddress'] in out.out, out
    assert key['KeyPairId'] in out.out
    p = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert p.rc == 0, p.out
    d = cairn('drift', str(tpl), *common)
    assert d.rc == 0, d

    # InstanceType and UserData: stop, modify, start; the same instance
    before = emu.control('calls')
    args = [*common, '--param', 'Size=t3.small', '--param', 'Script=echo two']
    p = cairn('plan', str(tpl), *args)
    assert p.rc == 0, p
    assert 'update in place, some interruption: the instance is stopped and started' in p.out, p
    r = cairn('apply', str(tpl), '--auto-approve', *args)
    assert r.rc == 0, r
    calls = delta(before, emu.control('calls'))
    assert calls.get('ec2:StopInstances') == 1 and calls.get('ec2:StartInstances') == 1, calls
    assert calls.get('ec2:ModifyInstanceAttribute') == 2, calls
    assert 'ec2:RunInstances' not in calls and 'ec2:TerminateInstances' not in calls, calls
    assert live_instances(emu) == [iid]
    got = instance(ec2, iid)
    assert got['InstanceType'] == 't3.small' and got['State']['Name'] == 'running'
    ud = ec2.describe_instance_attribute(InstanceId=iid, Attribute='userData')
    import base64
    assert base64.b64decode(ud['UserData']['Value']) == b'#!/bin/bash\necho two\n'
    p = cairn('plan', str(tpl), '--detailed-exitcode', *args)
    assert p.rc == 0, p
    # the public address changed with the restart: what depends on it follows
    assert ssm.get_parameter(Name='/cairn/host/address')['Parameter']['Value'] == \
        got['PublicIpAddress']
    out = cairn('output', *common)
    assert got['PublicIpAddress'] in out.out, (got['PublicIpAddress'], out.out)

    # ImageId is create-only: a new instance, the old one terminated
    args2 = [*args, '--param',
             'Ami=/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id']
    p = cairn('plan', str(tpl), *args2)
    assert p.rc == 0 and 'ImageId' in p.out, p
    r = cairn('apply', str(tpl), '--auto-approve', *args2)
    assert r.rc == 0, r
    [iid2] = live_instances(emu)
    assert iid2 != iid

    r = cairn('destroy', str(tpl), '--auto-approve', *args2)
    assert r.rc == 0, r
    assert live_instances(emu) == []
    assert ssm.describe_parameters()['Parameters'] == []
    now = {(x['service'], x['type'], x['id']) for x in emu.control('inventory')}
    assert now == emu.baseline


PROFILE_TPL = """Parameters:
  Ami: {Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', Default: %s}
  Audience: {Type: String, Default: sts.amazonaws.com}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties: {Roles: [!Ref Role]}
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref Ami
      InstanceType: t3.micro
      IamInstanceProfile: !Ref Profile
  GitHub:
    Type: AWS::IAM::OIDCProvider
    Properties:
      Url: https://token.actions.githubusercontent.com
      ClientIdList: [!Ref Audience]
      Tags: [{Key: purpose, Value: deploy}]
  Deploy:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Federated: !Ref GitHub}
            Action: sts:AssumeRoleWithWebIdentity
Outputs:
  ProfileArn: {Value: !GetAtt Profile.Arn}
  OidcArn: {Value: !GetAtt GitHub.Arn}
""" % AL2023


def test_instance_profile_propagation_and_oidc(emu, cairn):
    """The profile is usable by RunInstances only after IAM's propagation
    delay (emulator: iam_propagation_seconds): the launch waits it out.
    The default VPC's subnet is used when the template names none."""
    emu.control('config', {'iam_propagation_seconds': 1.0,
                           'async': {'instance_start': 0.2, 'instance_terminate': 0.2}})
    ec2, iam = emu.client('ec2'), emu.client('iam')
    tpl = cairn.tmp / 'prof.yaml'
    tpl.write_text(PROFILE_TPL)
    common = [*cairn.endpoint, '--state', str(cairn.tmp / 'p.db')]
    env = {'CAIRN_IAM_PROPAGATION_SECONDS': '0'}
    try:
        r = cairn('apply', str(tpl), '--auto-approve', *common, extra_env=env)
        assert r.rc == 0, r
        [iid] = live_instances(emu)
        got = instance(ec2, iid)
        prof = [x['id'] for x in emu.control('inventory') if x['type'] == 'instance-profile']
        assert len(prof) == 1
        assert got['IamInstanceProfile']['Arn'].endswith('/' + prof[0])
        # the first launch attempt was refused, then retried with the same token
        assert emu.control('calls').get('ec2:RunInstances', 0) >= 2
        oidc = iam.list_open_id_connect_providers()['OpenIDConnectProviderList']
        assert [o['Arn'] for o in oidc] == [
            'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com']
        p = cairn('plan', str(tpl), '--detailed-exitcode', *common, extra_env=env)
        assert p.rc == 0, p.out
        r = cairn('apply', str(tpl), '--auto-approve', *common, '--param', 'Audience=sigstore',
                  extra_env=env)
        assert r.rc == 0, r
        got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc[0]['Arn'])
        assert got['ClientIDList'] == ['sigstore']
        r = cairn('destroy', str(tpl), '--auto-approve', *common, '--param', 'Audience=sigstore',
                  extra_env=env)
        assert r.rc == 0, r
        now = {(x['service'], x['type'], x['id']) for x in emu.control('inventory')}
        assert now == emu.baseline
    finally:
        emu.control('config', {'iam_propagation_seconds': 0})
