"""SSM Parameter Store through botocore: types, versions, tags, public AMI parameters."""
import botocore.exceptions
import pytest

from emu.services.ssm import PUBLIC_AMIS


@pytest.fixture
def ssm(emulator):
    emulator.reset()
    return emulator.client('ssm')


def code(e):
    return e.value.response['Error']['Code']


def test_put_get_overwrite(ssm):
    assert ssm.put_parameter(Name='/app/url', Value='a', Type='String',
                             Tags=[{'Key': 'k', 'Value': 'v'}])['Version'] == 1
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ssm.put_parameter(Name='/app/url', Value='b', Type='String')
    assert code(e) == 'ParameterAlreadyExists'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ssm.put_parameter(Name='/app/url', Value='b', Type='String', Overwrite=True,
                          Tags=[{'Key': 'k', 'Value': 'v'}])
    assert code(e) == 'ValidationException'
    assert ssm.put_parameter(Name='/app/url', Value='b', Overwrite=True)['Version'] == 2
    par = ssm.get_parameter(Name='/app/url')['Parameter']
    assert (par['Value'], par['Version'], par['Type']) == ('b', 2, 'String')
    assert par['ARN'] == 'arn:aws:ssm:us-east-1:123456789012:parameter/app/url'
    assert ssm.list_tags_for_resource(ResourceType='Parameter',
                                      ResourceId='/app/url')['TagList'] == \
        [{'Key': 'k', 'Value': 'v'}]


def test_version_selector(ssm):
    # GetParameter's name:version selector reads an earlier version, as AWS
    ssm.put_parameter(Name='/app/v', Value='one', Type='String')
    ssm.put_parameter(Name='/app/v', Value='two', Overwrite=True)
    par = ssm.get_parameter(Name='/app/v:1')['Parameter']
    assert (par['Value'], par['Version']) == ('one', 1)
    assert ssm.get_parameter(Name='/app/v:2')['Parameter']['Value'] == 'two'
    assert ssm.get_parameter(Name='/app/v')['Parameter']['Value'] == 'two'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ssm.get_parameter(Name='/app/v:9')
    assert code(e) == 'ParameterVersionNotFound'


def test_secure_string_needs_decryption(ssm):
    ssm.put_parameter(Name='/ec2/keypair/key-1', Value='-----BEGIN', Type='SecureString')
    assert ssm.get_parameter(Name='/ec2/keypair/key-1')['Parameter']['Value'] != '-----BEGIN'
    assert ssm.get_parameter(Name='/ec2/keypair/key-1',
                             WithDecryption=True)['Parameter']['Value'] == '-----BEGIN'


def test_reserved_names_and_missing(ssm):
    for name in ('awsthing', '/ssm/x', 'SSMx'):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ssm.put_parameter(Name=name, Value='x', Type='String')
        assert code(e) == 'ValidationException'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ssm.get_parameter(Name='/nope')
    assert code(e) == 'ParameterNotFound'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ssm.delete_parameter(Name='/nope')
    assert code(e) == 'ParameterNotFound'


def test_get_parameters_batch_and_public(ssm):
    ssm.put_parameter(Name='p1', Value='one', Type='String')
    name = '/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id'
    out = ssm.get_parameters(Names=['p1', name, '/missing'])
    assert sorted(p['Name'] for p in out['Parameters']) == sorted(['p1', name])
    assert out['InvalidParameters'] == ['/missing']
    assert [p['Value'] for p in out['Parameters'] if p['Name'] == name] == [PUBLIC_AMIS[name]]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ssm.get_parameters(Names=[f'n{i}' for i in range(11)])
    assert code(e) == 'ValidationException'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ssm.put_parameter(Name=name, Value='ami-12345678', Type='String', Overwrite=True)
    assert code(e) in ('AccessDeniedException', 'ValidationException')


def test_describe_filters_and_delete(ssm, emulator):
    for n in ('/a/x', '/a/y', '/b/z'):
        ssm.put_parameter(Name=n, Value='v', Type='String',
                          Tags=[{'Key': 'cairn:stack', 'Value': n[1]}])
    got = ssm.describe_parameters(ParameterFilters=[{'Key': 'Name', 'Option': 'BeginsWith',
                                                     'Values': ['/a/']}])
    assert [p['Name'] for p in got['Parameters']] == ['/a/x', '/a/y']
    got = ssm.describe_parameters(ParameterFilters=[{'Key': 'tag:cairn:stack', 'Values': ['b']}])
    assert [p['Name'] for p in got['Parameters']] == ['/b/z']
    ssm.delete_parameter(Name='/a/x')
    inv = [r['id'] for r in emulator.control('inventory')
           if r['service'] == 'ssm']
    assert inv == ['/a/y', '/b/z']
