"""Parameters of AWS types resolved and checked at plan time, through the real
binary against the emulator: an AWS::SSM::Parameter::Value<...> parameter is
read from Parameter Store (one batched ssm:GetParameters), AWS-specific types
are checked against the account and a value that does not exist fails the
plan with the parameter's name."""
import sys
import os

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'emulator'))
from emu.services.ssm import PUBLIC_AMIS  # noqa: E402

AMI = '/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id'
TPL = f"""Parameters:
  Ami:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: {AMI}
  Names:
    Type: AWS::SSM::Parameter::Value<List<String>>
    Default: /cairn/test/names
  Vpc: {{Type: AWS::EC2::VPC::Id}}
  Subnets: {{Type: 'List<AWS::EC2::Subnet::Id>'}}
  Zone: {{Type: AWS::EC2::AvailabilityZone::Name, Default: us-east-1a}}
Resources:
  Copy:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /cairn/test/ami
      Type: String
      Value: !Join ["|", [!Ref Ami, !Select [1, !Ref Names], !Ref Vpc, !Ref Zone]]
"""


def test_ssm_and_aws_specific_types(emu, cairn):
    ec2 = emu.client('ec2')
    ssm = emu.client('ssm')
    ssm.put_parameter(Name='/cairn/test/names', Value='x,y,z', Type='StringList',
                      Overwrite=True)
    vpc = [v for v in ec2.describe_vpcs()['Vpcs'] if v.get('IsDefault')][0]['VpcId']
    subnets = [s['SubnetId'] for s in ec2.describe_subnets(
        Filters=[{'Name': 'vpc-id', 'Values': [vpc]}])['Subnets']][:2]
    tpl = cairn.tmp / 'types.yaml'
    tpl.write_text(TPL)
    common = [*cairn.endpoint, '--state', str(cairn.tmp / 's.db'),
              '--param', f'Vpc={vpc}', '--param', f'Subnets={",".join(subnets)}']
    before = emu.control('calls')
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    got = ssm.get_parameter(Name='/cairn/test/ami')['Parameter']['Value']
    assert got == f'{PUBLIC_AMIS[AMI]}|y|{vpc}|us-east-1a'
    calls = emu.control('calls')
    assert calls.get('ssm:GetParameters', 0) > before.get('ssm:GetParameters', 0)
    r = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert r.rc == 0, r

    # the AMI parameter moves on: the next plan changes the value
    ssm.put_parameter(Name='/cairn/test/names', Value='x,w', Type='StringList',
                      Overwrite=True)
    r = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert r.rc == 2, r

    # values that do not exist: the plan fails naming the parameter
    bad = [*cairn.endpoint, '--state', str(cairn.tmp / 's.db'),
           '--param', 'Vpc=vpc-0123456789abcdef0', '--param', f'Subnets={subnets[0]}']
    r = cairn('plan', str(tpl), *bad)
    assert r.rc != 0 and 'Vpc' in r.err and 'vpc-0123456789abcdef0' in r.err, r
    r = cairn('plan', str(tpl), *common[:-2], '--param', f'Subnets={subnets[0]},subnet-00000000000000000')
    assert r.rc != 0 and 'Subnets' in r.err and 'subnet-00000000000000000' in r.err, r
    r = cairn('plan', str(tpl), *common, '--param', 'Zone=us-east-1z')
    assert r.rc != 0 and 'Zone' in r.err and 'us-east-1z' in r.err, r
    r = cairn('plan', str(tpl), *common, '--param', 'Names=/cairn/none')
    assert r.rc != 0 and 'Names' in r.err and '/cairn/none' in r.err, r

    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    ssm.delete_parameter(Name='/cairn/test/names')
    now = {(x['service'], x['type'], x['id']) for x in emu.control('inventory')}
    assert now == emu.baseline
