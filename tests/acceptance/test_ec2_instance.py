"""AWS::EC2::Instance and AWS::EC2::KeyPair through the real binary against the
emulator: launch with ClientToken and wait running, Ref/GetAtt, the private
key only in SSM (/ec2/keypair/<id>) and never in cairn's state or output, an
InstanceType and a UserData change done as stop/modify/start (seen in the
emulator's call counters, no replacement), a create-only change (ImageId)
replaced, destroy (terminate and wait) back to the seed baseline."""
import json
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


# ---------------------------------------------------------------------------
# Each in-place class of CloudFormation's AWS::EC2::Instance reference, drift
# of the volumes, and the batched reads.

CLASSES_TPL = """Parameters:
  Ami: {Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', Default: %s}
  Which: {Type: String, Default: One}
  UseProfile: {Type: String, Default: 'yes'}
  Detailed: {Type: String, Default: 'false'}
  Check: {Type: String, Default: 'true'}
  Credits: {Type: String, Default: unlimited}
  Keep: {Type: String, Default: 'true'}
  Size: {Type: Number, Default: 10}
  Optimized: {Type: String, Default: 'false'}
  Tenancy: {Type: String, Default: default}
  Protect: {Type: String, Default: 'false'}
  Shutdown: {Type: String, Default: stop}
Conditions:
  WithProfile: !Equals [!Ref UseProfile, 'yes']
  IsOne: !Equals [!Ref Which, One]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}
  One:
    Type: AWS::IAM::InstanceProfile
    Properties: {Roles: [!Ref Role]}
  Two:
    Type: AWS::IAM::InstanceProfile
    Properties: {Roles: [!Ref Role]}
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref Ami
      InstanceType: t3.micro
      IamInstanceProfile: !If [WithProfile, !If [IsOne, !Ref One, !Ref Two], !Ref 'AWS::NoValue']
      Monitoring: !Ref Detailed
      SourceDestCheck: !Ref Check
      CreditSpecification: {CPUCredits: !Ref Credits}
      EbsOptimized: !Ref Optimized
      Tenancy: !Ref Tenancy
      DisableApiTermination: !Ref Protect
      InstanceInitiatedShutdownBehavior: !Ref Shutdown
      BlockDeviceMappings:
        - DeviceName: /dev/xvda
          Ebs: {VolumeSize: !Ref Size, VolumeType: gp3, DeleteOnTermination: !Ref Keep}
Outputs:
  HostId: {Value: !Ref Host}
""" % AL2023

PROFILE_ENV = {'CAIRN_IAM_PROPAGATION_SECONDS': '0'}


def _setup(emu, cairn, name):
    emu.control('config', {'iam_propagation_seconds': 0,
                           'async': {'instance_start': 0.2, 'instance_stop': 0.2,
                                     'instance_terminate': 0.2}})
    tpl = cairn.tmp / f'{name}.yaml'
    tpl.write_text(CLASSES_TPL)
    common = [*cairn.endpoint, '--state', str(cairn.tmp / f'{name}.db')]

    def run(*args, params=()):
        extra = [x for k, v in params for x in ('--param', f'{k}={v}')]
        return cairn(*args, str(tpl), *common, *extra, extra_env=PROFILE_ENV)
    return run


def _volume(ec2, inst):
    vid = inst['BlockDeviceMappings'][0]['Ebs']['VolumeId']
    return ec2.describe_volumes(VolumeIds=[vid])['Volumes'][0]


def test_no_interruption_changes(emu, cairn):
    """IamInstanceProfile, Monitoring, SourceDestCheck, CreditSpecification,
    DisableApiTermination, InstanceInitiatedShutdownBehavior and a block
    device's DeleteOnTermination change the running instance: the same
    instance, never stopped; the plan says so per property."""
    run = _setup(emu, cairn, 'noint')
    ec2 = emu.client('ec2')
    r = run('apply', '--auto-approve')
    assert r.rc == 0, r
    [iid] = live_instances(emu)
    got = instance(ec2, iid)
    assert got['IamInstanceProfile']['Arn'].split('/')[-1].startswith('noint-One-')
    assert got['Monitoring']['State'] == 'disabled' and got['SourceDestCheck'] is True
    params = [('Which', 'Two'), ('Detailed', 'true'), ('Check', 'false'),
              ('Credits', 'standard'), ('Keep', 'false'), ('Protect', 'true'),
              ('Shutdown', 'terminate')]
    p = run('plan', params=params)
    assert p.rc == 0, p
    host = [ln for ln in p.out.splitlines() if ' Host (' in ln][0]
    assert 'update in place' in host and 'interruption' not in host, p.out
    for prop in ('IamInstanceProfile', 'Monitoring', 'SourceDestCheck',
                 'CreditSpecification.CPUCredits', 'DisableApiTermination',
                 'InstanceInitiatedShutdownBehavior',
                 'BlockDeviceMappings[0].Ebs.DeleteOnTermination'):
        [line] = [ln for ln in p.out.splitlines() if f' {prop}: ' in ln]
        assert line.endswith('(no interruption)'), (prop, p.out)
    before = emu.control('calls')
    r = run('apply', '--auto-approve', params=params)
    assert r.rc == 0, r
    calls = delta(before, emu.control('calls'))
    assert 'ec2:StopInstances' not in calls and 'ec2:RunInstances' not in calls, calls
    assert calls.get('ec2:ReplaceIamInstanceProfileAssociation') == 1, calls
    assert calls.get('ec2:MonitorInstances') == 1, calls
    assert calls.get('ec2:ModifyInstanceCreditSpecification') == 1, calls
    assert live_instances(emu) == [iid]
    got = instance(ec2, iid)
    assert got['State']['Name'] == 'running'
    assert got['IamInstanceProfile']['Arn'].split('/')[-1].startswith('noint-Two-')
    assert got['Monitoring']['State'] == 'enabled' and got['SourceDestCheck'] is False
    assert got['BlockDeviceMappings'][0]['Ebs']['DeleteOnTermination'] is False
    cs = ec2.describe_instance_credit_specifications(InstanceIds=[iid])
    assert cs['InstanceCreditSpecifications'][0]['CpuCredits'] == 'standard'
    attr = ec2.describe_instance_attribute(InstanceId=iid, Attribute='disableApiTermination')
    assert attr['DisableApiTermination']['Value'] is True
    attr = ec2.describe_instance_attribute(InstanceId=iid,
                                           Attribute='instanceInitiatedShutdownBehavior')
    assert attr['InstanceInitiatedShutdownBehavior']['Value'] == 'terminate'
    p = run('plan', '--detailed-exitcode', params=params)
    assert p.rc == 0, p.out
    d = run('drift', params=params)
    assert d.rc == 0, d
    # the termination protection is read back: turned off by hand, it drifts
    ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={'Value': False})
    d = run('drift', params=params)
    assert d.rc == 2 and 'DisableApiTermination' in d.out, d
    ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={'Value': True})

    # the profile removed: disassociated, still the same running instance
    params2 = [*params, ('UseProfile', 'no')]
    before = emu.control('calls')
    r = run('apply', '--auto-approve', params=params2)
    assert r.rc == 0, r
    calls = delta(before, emu.control('calls'))
    assert calls.get('ec2:DisassociateIamInstanceProfile') == 1, calls
    assert 'ec2:StopInstances' not in calls, calls
    got = instance(ec2, iid)
    assert 'IamInstanceProfile' not in got and got['State']['Name'] == 'running'
    # and set again: a new association
    r = run('apply', '--auto-approve', params=params)
    assert r.rc == 0, r
    assert instance(ec2, iid)['IamInstanceProfile']['Arn'].split('/')[-1].startswith(
        'noint-Two-')
    # stopped by hand: EC2 replaces no association of a stopped instance
    # (IncorrectState), so it is disassociated and a new one made; it stays
    # stopped. And unprotected, as destroying it needs.
    ec2.stop_instances(InstanceIds=[iid])
    ec2.get_waiter('instance_stopped').wait(InstanceIds=[iid],
                                            WaiterConfig={'Delay': 1})
    params = [*params, ('Protect', 'false'), ('Which', 'One')]
    before = emu.control('calls')
    r = run('apply', '--auto-approve', params=params)
    assert r.rc == 0, r
    calls = delta(before, emu.control('calls'))
    assert calls.get('ec2:DisassociateIamInstanceProfile') == 1, calls
    assert calls.get('ec2:AssociateIamInstanceProfile') == 1, calls
    got = instance(ec2, iid)
    assert got['State']['Name'] == 'stopped', got['State']
    assert got['IamInstanceProfile']['Arn'].split('/')[-1].startswith('noint-One-')
    r = run('destroy', '--auto-approve', params=params)
    assert r.rc == 0, r
    assert live_instances(emu) == []


def test_some_interruption_changes(emu, cairn):
    """EbsOptimized and Tenancy: one stop and one start of the same instance,
    ModifyInstanceAttribute and ModifyInstancePlacement while stopped."""
    run = _setup(emu, cairn, 'someint')
    ec2 = emu.client('ec2')
    r = run('apply', '--auto-approve')
    assert r.rc == 0, r
    [iid] = live_instances(emu)
    params = [('Optimized', 'true'), ('Tenancy', 'dedicated'), ('Detailed', 'true')]
    p = run('plan', params=params)
    assert p.rc == 0, p
    assert 'update in place, some interruption: the instance is stopped and started ' \
           '(EbsOptimized, Tenancy change)' in p.out, p.out
    [line] = [ln for ln in p.out.splitlines() if ' Tenancy: ' in ln]
    assert line.endswith('(some interruption)'), p.out
    [line] = [ln for ln in p.out.splitlines() if ' Monitoring: ' in ln]
    assert line.endswith('(no interruption)'), p.out
    j = run('plan', '--json', params=params)
    assert j.rc == 0, j
    [host] = [x for x in json.loads(j.out)['resources'] if x['logical_id'] == 'Host']
    how = {c['path']: c.get('interruption') for c in host['changes']}
    assert how == {'EbsOptimized': 'some', 'Tenancy': 'some', 'Monitoring': 'none'}, host
    before = emu.control('calls')
    r = run('apply', '--auto-approve', params=params)
    assert r.rc == 0, r
    calls = delta(before, emu.control('calls'))
    assert calls.get('ec2:StopInstances') == 1 and calls.get('ec2:StartInstances') == 1, calls
    assert calls.get('ec2:ModifyInstancePlacement') == 1, calls
    assert calls.get('ec2:ModifyInstanceAttribute') == 1, calls
    assert 'ec2:RunInstances' not in calls and 'ec2:TerminateInstances' not in calls, calls
    assert live_instances(emu) == [iid]
    got = instance(ec2, iid)
    assert got['State']['Name'] == 'running' and got['EbsOptimized'] is True
    assert got['Placement']['Tenancy'] == 'dedicated'
    assert got['Monitoring']['State'] == 'enabled'
    p = run('plan', '--detailed-exitcode', params=params)
    assert p.rc == 0, p.out
    # back to default tenancy: EC2 cannot; refused before anything stops
    before = emu.control('calls')
    r = run('apply', '--auto-approve', params=[('Optimized', 'true')])
    assert r.rc != 0 and 'Tenancy' in r.out + r.err, r
    assert 'ec2:StopInstances' not in delta(before, emu.control('calls'))
    assert instance(ec2, iid)['State']['Name'] == 'running'
    r = run('destroy', '--auto-approve', params=params)
    assert r.rc == 0, r
    assert live_instances(emu) == []


def test_block_device_change_replaces(emu, cairn):
    """A volume size change in BlockDeviceMappings replaces the instance (only
    DeleteOnTermination changes in place): a new instance, the old one
    terminated."""
    run = _setup(emu, cairn, 'repl')
    ec2 = emu.client('ec2')
    r = run('apply', '--auto-approve')
    assert r.rc == 0, r
    [iid] = live_instances(emu)
    p = run('plan', params=[('Size', '12')])
    assert p.rc == 0, p
    assert 'replace (forces replacement: BlockDeviceMappings)' in p.out, p.out
    [line] = [ln for ln in p.out.splitlines() if 'VolumeSize' in ln]
    assert line.endswith('(forces replacement)'), p.out
    r = run('apply', '--auto-approve', params=[('Size', '12')])
    assert r.rc == 0, r
    [iid2] = live_instances(emu)
    assert iid2 != iid
    assert instance(ec2, iid)['State']['Name'] in ('shutting-down', 'terminated')
    assert _volume(ec2, instance(ec2, iid2))['Size'] == 12
    r = run('destroy', '--auto-approve', params=[('Size', '12')])
    assert r.rc == 0, r


def test_volume_drift(emu, cairn):
    """A volume grown and retyped with ModifyVolume, and DeleteOnTermination
    turned off, outside cairn: drift reports each."""
    run = _setup(emu, cairn, 'vdrift')
    ec2 = emu.client('ec2')
    r = run('apply', '--auto-approve')
    assert r.rc == 0, r
    [iid] = live_instances(emu)
    d = run('drift')
    assert d.rc == 0, d
    vol = _volume(ec2, instance(ec2, iid))
    ec2.modify_volume(VolumeId=vol['VolumeId'], Size=16, VolumeType='io2', Iops=400)
    ec2.modify_instance_attribute(InstanceId=iid, BlockDeviceMappings=[
        {'DeviceName': '/dev/xvda', 'Ebs': {'DeleteOnTermination': False}}])
    d = run('drift')
    assert d.rc == 2, d
    for what in ('VolumeSize', 'VolumeType', 'DeleteOnTermination'):
        assert what in d.out, (what, d.out)
    assert '16' in d.out and 'io2' in d.out, d.out
    # the plan puts the template back: the size and type by a new instance
    p = run('plan')
    assert 'replace (forces replacement: BlockDeviceMappings)' in p.out, p.out
    r = run('destroy', '--auto-approve')
    assert r.rc == 0, r


READS_TPL = """Parameters:
  Ami: {Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', Default: %s}
Resources:
""" % AL2023 + ''.join(f"""  Host{i}:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref Ami
      InstanceType: t3.micro
      MetadataOptions: {{HttpTokens: required}}
      BlockDeviceMappings:
        - {{DeviceName: /dev/xvda, Ebs: {{VolumeSize: 8, VolumeType: gp3}}}}
      Tags: [{{Key: Name, Value: host-{i}}}]
""" for i in range(5))


def test_no_change_plan_reads_in_one_call(emu, cairn):
    """A no-change plan over five instances: one DescribeInstances with the
    five ids and one DescribeVolumes, not a call per instance."""
    emu.control('config', {'async': {'instance_start': 0.2, 'instance_terminate': 0.2}})
    tpl = cairn.tmp / 'reads.yaml'
    tpl.write_text(READS_TPL)
    common = [*cairn.endpoint, '--state', str(cairn.tmp / 'reads.db')]
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    assert len(live_instances(emu)) == 5
    emu.settle()
    before = emu.control('calls')
    p = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert p.rc == 0, p.out
    calls = delta(before, emu.control('calls'))
    assert calls.get('ec2:DescribeInstances') == 1, calls
    assert calls.get('ec2:DescribeVolumes') == 1, calls
    assert 'ec2:DescribeInstanceAttribute' not in calls, calls
    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    assert live_instances(emu) == []


def test_profile_association_survives_lost_answers(emu, cairn):
    """AssociateIamInstanceProfile has no idempotency token: when its answer
    is lost (the emulator applies the call, then drops the connection) the
    client's resend meets IncorrectState "There is an existing association";
    cairn then finds the association it made instead of failing."""
    run = _setup(emu, cairn, 'lost')
    ec2 = emu.client('ec2')
    r = run('apply', '--auto-approve', params=[('UseProfile', 'no')])
    assert r.rc == 0, r
    [iid] = live_instances(emu)
    emu.control('config', {'seed': 7,
                           'drop_after_rate': {'ec2:AssociateIamInstanceProfile': 0.6}})
    try:
        before = emu.control('calls')
        for _ in range(3):
            r = run('apply', '--auto-approve')
            assert r.rc == 0, r
            assert instance(ec2, iid)['IamInstanceProfile']['Arn'].split('/')[-1].startswith(
                'lost-One-')
            r = run('apply', '--auto-approve', params=[('UseProfile', 'no')])
            assert r.rc == 0, r
            assert 'IamInstanceProfile' not in instance(ec2, iid)
        calls = delta(before, emu.control('calls'))
        # some answers were lost and resent
        assert calls.get('ec2:AssociateIamInstanceProfile', 0) > 3, calls
    finally:
        emu.control('config', {'drop_after_rate': {'ec2:AssociateIamInstanceProfile': 0.0}})
    r = run('destroy', '--auto-approve', params=[('UseProfile', 'no')])
    assert r.rc == 0, r
