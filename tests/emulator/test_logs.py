"""CloudWatch Logs through botocore."""
import botocore.exceptions
import pytest

from emu.services.logs import RETENTION_DAYS


@pytest.fixture
def logs(emulator):
    return emulator.client('logs')


def code(e):
    return e.value.response['Error']['Code']


def test_create_describe_delete(logs):
    logs.create_log_group(logGroupName='/ecs/web', tags={'team': 'a'})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.create_log_group(logGroupName='/ecs/web')
    assert code(e) == 'ResourceAlreadyExistsException'
    g = logs.describe_log_groups(logGroupNamePrefix='/ecs/')['logGroups']
    assert [x['logGroupName'] for x in g] == ['/ecs/web']
    assert g[0]['arn'] == 'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*'
    assert 'retentionInDays' not in g[0]
    logs.delete_log_group(logGroupName='/ecs/web')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.delete_log_group(logGroupName='/ecs/web')
    assert code(e) == 'ResourceNotFoundException'


def test_invalid_name(logs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.create_log_group(logGroupName='bad name')
    assert code(e) == 'InvalidParameterException'


def test_retention_values_from_model(logs):
    # the model's documentation lists the allowed values; spot-check them
    assert RETENTION_DAYS[:5] == [1, 3, 5, 7, 14] and 3653 in RETENTION_DAYS
    logs.create_log_group(logGroupName='r')
    logs.put_retention_policy(logGroupName='r', retentionInDays=14)
    assert logs.describe_log_groups()['logGroups'][0]['retentionInDays'] == 14
    for bad in (2, 4, 0, 10000):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            logs.put_retention_policy(logGroupName='r', retentionInDays=bad)
        assert code(e) == 'InvalidParameterException'
    logs.delete_retention_policy(logGroupName='r')
    assert 'retentionInDays' not in logs.describe_log_groups()['logGroups'][0]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.put_retention_policy(logGroupName='missing', retentionInDays=7)
    assert code(e) == 'ResourceNotFoundException'


def test_tags_by_arn_and_by_name(logs):
    logs.create_log_group(logGroupName='t', tags={'a': '1'})
    arn = 'arn:aws:logs:us-east-1:123456789012:log-group:t'
    logs.tag_resource(resourceArn=arn, tags={'b': '2'})
    logs.untag_resource(resourceArn=arn, tagKeys=['a'])
    assert logs.list_tags_for_resource(resourceArn=arn)['tags'] == {'b': '2'}
    assert logs.list_tags_log_group(logGroupName='t')['tags'] == {'b': '2'}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.list_tags_for_resource(resourceArn=arn + 'x')
    assert code(e) == 'ResourceNotFoundException'


def test_describe_pagination(logs):
    names = [f'/app/{i:02d}' for i in range(12)] + ['/other/x']
    for n in names:
        logs.create_log_group(logGroupName=n)
    seen, token, pages = [], None, 0
    while True:
        kw = {'nextToken': token} if token else {}
        out = logs.describe_log_groups(logGroupNamePrefix='/app/', limit=5, **kw)
        pages += 1
        seen += [g['logGroupName'] for g in out['logGroups']]
        token = out.get('nextToken')
        if not token:
            break
    assert pages == 3 and seen == names[:12]
    allg = [g['logGroupName'] for p in logs.get_paginator('describe_log_groups').paginate(
        PaginationConfig={'PageSize': 4}) for g in p['logGroups']]
    assert allg == sorted(names)


def test_streams_and_events(logs):
    logs.create_log_group(logGroupName='ev')
    logs.create_log_stream(logGroupName='ev', logStreamName='s1')
    logs.put_log_events(logGroupName='ev', logStreamName='s1',
                        logEvents=[{'timestamp': 1000, 'message': 'a'},
                                   {'timestamp': 2000, 'message': 'b'}])
    assert [e['message'] for e in logs.get_log_events(
        logGroupName='ev', logStreamName='s1', startFromHead=True)['events']] == ['a', 'b']
    assert logs.describe_log_streams(logGroupName='ev')['logStreams'][0]['logStreamName'] == 's1'
    logs.delete_log_stream(logGroupName='ev', logStreamName='s1')
    assert logs.describe_log_streams(logGroupName='ev')['logStreams'] == []


def test_inventory(emulator, logs):
    logs.create_log_group(logGroupName='inv')
    assert {'service': 'logs', 'type': 'log-group', 'id': 'inv', 'region': 'us-east-1'} in \
        emulator.control('inventory')


def test_legacy_log_group_tag_calls(logs):
    logs.create_log_group(logGroupName='legacy')
    logs.tag_log_group(logGroupName='legacy', tags={'x': '1', 'y': '2'})
    logs.untag_log_group(logGroupName='legacy', tags=['x'])
    assert logs.list_tags_log_group(logGroupName='legacy')['tags'] == {'y': '2'}


def test_describe_log_groups_by_identifiers(emulator, logs):
    # Debian's botocore predates logGroupIdentifiers: a hand-signed request
    import json

    def describe(body):
        st, _, out = emulator.raw('logs', body=json.dumps(body), headers={
            'Content-Type': 'application/x-amz-json-1.1',
            'X-Amz-Target': 'Logs_20140328.DescribeLogGroups'})
        return st, json.loads(out)

    for n in ('/ids/a', '/ids/b', '/ids/c'):
        logs.create_log_group(logGroupName=n)
    # the ARN without the ":*" DescribeLogGroups appends (the pattern has no *)
    arn_b = logs.describe_log_groups(logGroupNamePrefix='/ids/b')['logGroups'][0]['arn'][:-2]
    st, got = describe({'logGroupIdentifiers': ['/ids/a', arn_b, '/ids/missing']})
    assert st == 200, got
    assert [g['logGroupName'] for g in got['logGroups']] == ['/ids/a', '/ids/b']
    st, got = describe({'logGroupIdentifiers': ['/ids/a'], 'logGroupNamePrefix': '/ids'})
    assert st == 400 and got['__type'].endswith('InvalidParameterException'), got
    st, got = describe({'logGroupIdentifiers': [f'/ids/{i}' for i in range(51)]})
    assert st == 400, got
    for n in ('/ids/a', '/ids/b', '/ids/c'):
        logs.delete_log_group(logGroupName=n)
