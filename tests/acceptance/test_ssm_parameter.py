"""AWS::SSM::Parameter through the native provider (not Cloud Control): create
with tags, Ref/GetAtt, an in-place value change (a new version, no delete),
a tag change, drift of a value changed outside cairn, a Name change that
replaces, destroy to the seed baseline. Checked through botocore and the
emulator's inventory and call counters."""
import botocore.session
import pytest

TPL = """Parameters:
  Val: {Type: String, Default: one}
  Env: {Type: String, Default: dev}
  PName: {Type: String, Default: /cairn/app/url}
Resources:
  Named:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Ref PName
      Type: String
      Value: !Ref Val
      Description: the url
      Tags: {env: !Ref Env}
  Generated:
    Type: AWS::SSM::Parameter
    Properties:
      Type: StringList
      Value: !Join [",", [a, !GetAtt Named.Value]]
Outputs:
  NamedRef: {Value: !Ref Named}
  GenRef: {Value: !Ref Generated}
  GenValue: {Value: !GetAtt Generated.Value}
  GenType: {Value: !GetAtt Generated.Type}
"""


@pytest.fixture
def ssm(emu):
    s = botocore.session.get_session()
    return s.create_client('ssm', region_name='us-east-1', endpoint_url=emu.url,
                           aws_access_key_id='test', aws_secret_access_key='test')


def live(emu):
    return {r['id'] for r in emu.control('inventory') if r['service'] == 'ssm'}


def test_parameter_lifecycle(emu, cairn, ssm):
    tpl = cairn.tmp / 'params.yaml'
    tpl.write_text(TPL)
    common = [*cairn.endpoint, '--state', str(cairn.tmp / 's.db')]
    before = emu.control('calls')
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    calls = emu.control('calls')
    # native: SSM's own API, no Cloud Control request
    assert calls.get('ssm:PutParameter', 0) - before.get('ssm:PutParameter', 0) == 2, calls
    assert calls.get('cloudcontrol:CreateResource', 0) == \
        before.get('cloudcontrol:CreateResource', 0)
    names = live(emu)
    assert '/cairn/app/url' in names and len(names) == 2, names
    gen = (names - {'/cairn/app/url'}).pop()
    assert gen.startswith('params-Generated-'), gen
    p = ssm.get_parameter(Name=gen)['Parameter']
    assert (p['Type'], p['Value']) == ('StringList', 'a,one')
    tags = ssm.list_tags_for_resource(ResourceType='Parameter',
                                      ResourceId='/cairn/app/url')['TagList']
    assert {t['Key']: t['Value'] for t in tags} == {
        'env': 'dev', 'cairn:stack': 'params', 'cairn:logical-id': 'Named'}
    r = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert r.rc == 0, r
    r = cairn('drift', str(tpl), *common)
    assert r.rc == 0, r

    # value and tag change: in place, a new version, nothing deleted
    before = emu.control('calls')
    r = cairn('apply', str(tpl), '--auto-approve', *common, '--param', 'Val=two',
              '--param', 'Env=prod')
    assert r.rc == 0, r
    calls = emu.control('calls')
    assert calls.get('ssm:DeleteParameter', 0) == before.get('ssm:DeleteParameter', 0)
    p = ssm.get_parameter(Name='/cairn/app/url')['Parameter']
    assert (p['Value'], p['Version']) == ('two', 2)
    assert ssm.get_parameter(Name=gen)['Parameter']['Value'] == 'a,two'
    tags = ssm.list_tags_for_resource(ResourceType='Parameter',
                                      ResourceId='/cairn/app/url')['TagList']
    assert {t['Key']: t['Value'] for t in tags}['env'] == 'prod'
    args = [*common, '--param', 'Val=two', '--param', 'Env=prod']
    r = cairn('plan', str(tpl), '--detailed-exitcode', *args)
    assert r.rc == 0, r

    # changed outside cairn: drift sees it, the plan puts it back
    ssm.put_parameter(Name='/cairn/app/url', Value='hand', Overwrite=True)
    r = cairn('drift', str(tpl), *args)
    assert r.rc != 0 and 'Value' in r.out + r.err, r
    r = cairn('apply', str(tpl), '--auto-approve', *args)
    assert r.rc == 0, r
    assert ssm.get_parameter(Name='/cairn/app/url')['Parameter']['Value'] == 'two'

    # Name is create-only: replacement
    args2 = [*args, '--param', 'PName=/cairn/app/url2']
    r = cairn('apply', str(tpl), '--auto-approve', *args2)
    assert r.rc == 0, r
    assert live(emu) == {'/cairn/app/url2', gen}

    r = cairn('destroy', str(tpl), '--auto-approve', *args2)
    assert r.rc == 0, r
    assert live(emu) == set()
    now = {(x['service'], x['type'], x['id']) for x in emu.control('inventory')}
    assert now == emu.baseline
