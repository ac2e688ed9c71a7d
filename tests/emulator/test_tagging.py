"""Resource Groups Tagging API GetResources through botocore: every taggable
resource of the emulated services, filters, AWS's page size and ARNs."""
import botocore.exceptions
import pytest


@pytest.fixture
def tagging(emulator):
    emulator.reset()
    return emulator.client('resourcegroupstaggingapi')


def _all(tagging, **kw):
    out, tok = [], ''
    while True:
        r = tagging.get_resources(PaginationToken=tok, **kw)
        out.extend(r['ResourceTagMappingList'])
        tok = r['PaginationToken']
        if not tok:
            return out


def test_every_service_listed_with_arns_and_filters(emulator, tagging):
    st = [{'Key': 'cairn:stack', 'Value': 's1'}]
    ec2 = emulator.client('ec2')
    vpc = ec2.create_vpc(CidrBlock='10.0.0.0/16',
                         TagSpecifications=[{'ResourceType': 'vpc', 'Tags': st}])['Vpc']['VpcId']
    emulator.client('logs').create_log_group(logGroupName='/a/b', tags={'cairn:stack': 's1'})
    emulator.client('logs').create_log_group(logGroupName='/other', tags={'cairn:stack': 's2'})
    emulator.client('logs').create_log_group(logGroupName='/untagged')
    repo = emulator.client('ecr').create_repository(repositoryName='r1', tags=st)
    sec = emulator.client('secretsmanager').create_secret(Name='s', SecretString='x', Tags=st)
    ecs = emulator.client('ecs')
    cl = ecs.create_cluster(clusterName='c1', tags=[{'key': 'cairn:stack', 'value': 's1'}])
    got = _all(tagging, TagFilters=[{'Key': 'cairn:stack', 'Values': ['s1']}])
    arns = sorted(x['ResourceARN'] for x in got)
    assert arns == sorted([
        f'arn:aws:ec2:us-east-1:123456789012:vpc/{vpc}',
        'arn:aws:logs:us-east-1:123456789012:log-group:/a/b',
        repo['repository']['repositoryArn'], sec['ARN'],
        cl['cluster']['clusterArn']])
    assert all({'Key': 'cairn:stack', 'Value': 's1'} in x['Tags'] for x in got)
    # key only: both stacks; type filter; untagged never listed
    assert len(_all(tagging, TagFilters=[{'Key': 'cairn:stack'}])) == 6
    logs_only = _all(tagging, TagFilters=[{'Key': 'cairn:stack'}],
                     ResourceTypeFilters=['logs:log-group'])
    assert sorted(x['ResourceARN'].rsplit(':', 1)[1] for x in logs_only) == ['/a/b', '/other']


def test_pages_of_100(emulator, tagging):
    logs = emulator.client('logs')
    for i in range(230):
        logs.create_log_group(logGroupName=f'/p/{i:03d}', tags={'cairn:stack': 'big'})
    sizes, tok = [], ''
    while True:
        r = tagging.get_resources(PaginationToken=tok,
                                  TagFilters=[{'Key': 'cairn:stack', 'Values': ['big']}])
        sizes.append(len(r['ResourceTagMappingList']))
        tok = r['PaginationToken']
        if not tok:
            break
    assert sizes == [100, 100, 30]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        tagging.get_resources(ResourcesPerPage=101)
    assert e.value.response['Error']['Code'] == 'InvalidParameterException'
