"""Cloud Control API through botocore: schema-driven validation, generated
identifiers and ARNs, asynchronous progress, idempotent client tokens,
create-only patches refused, references enforced, DescribeType."""
import json
import time

import botocore.exceptions
import pytest


@pytest.fixture
def cc(emulator):
    return emulator.client('cloudcontrol')


def code(e):
    return e.value.response['Error']['Code']


def wait(cc, ev, timeout=10):
    seen = [ev['OperationStatus']]
    end = time.time() + timeout
    while ev['OperationStatus'] in ('PENDING', 'IN_PROGRESS'):
        assert time.time() < end, seen
        time.sleep(0.05)
        ev = cc.get_resource_request_status(RequestToken=ev['RequestToken'])['ProgressEvent']
        seen.append(ev['OperationStatus'])
    return ev, seen


def create(cc, type_name, state, token=None):
    kw = {'ClientToken': token} if token else {}
    ev = cc.create_resource(TypeName=type_name, DesiredState=json.dumps(state), **kw)
    return wait(cc, ev['ProgressEvent'])


def test_queue_life_cycle(emulator, cc):
    emulator.control('config', {'async': {'cloudcontrol': 0.5}})
    ev, seen = create(cc, 'AWS::SQS::Queue', {'QueueName': 'jobs', 'VisibilityTimeout': 40})
    assert seen[0] == 'PENDING' and 'IN_PROGRESS' in seen and seen[-1] == 'SUCCESS'
    url = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs'
    assert ev['Identifier'] == url
    props = json.loads(cc.get_resource(TypeName='AWS::SQS::Queue',
                                       Identifier=url)['ResourceDescription']['Properties'])
    assert props['Arn'] == 'arn:aws:sqs:us-east-1:123456789012:jobs'
    assert props['VisibilityTimeout'] == 40
    inv = emulator.control('inventory')
    assert {'service': 'cloudcontrol', 'type': 'AWS::SQS::Queue', 'id': url} in \
        (inv if isinstance(inv, list) else inv.get('resources', inv))
    patch = [{'op': 'replace', 'path': '/VisibilityTimeout', 'value': 60}]
    ev, _ = wait(cc, cc.update_resource(TypeName='AWS::SQS::Queue', Identifier=url,
                                        PatchDocument=json.dumps(patch))['ProgressEvent'])
    assert ev['OperationStatus'] == 'SUCCESS'
    props = json.loads(cc.get_resource(TypeName='AWS::SQS::Queue',
                                       Identifier=url)['ResourceDescription']['Properties'])
    assert props['VisibilityTimeout'] == 60
    # create-only: refused
    patch = [{'op': 'replace', 'path': '/QueueName', 'value': 'other'}]
    ev, _ = wait(cc, cc.update_resource(TypeName='AWS::SQS::Queue', Identifier=url,
                                        PatchDocument=json.dumps(patch))['ProgressEvent'])
    assert ev['OperationStatus'] == 'FAILED' and ev['ErrorCode'] == 'NotUpdatable'
    ev, _ = wait(cc, cc.delete_resource(TypeName='AWS::SQS::Queue',
                                        Identifier=url)['ProgressEvent'])
    assert ev['OperationStatus'] == 'SUCCESS'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cc.get_resource(TypeName='AWS::SQS::Queue', Identifier=url)
    assert code(e) == 'ResourceNotFoundException'
    ev, _ = wait(cc, cc.delete_resource(TypeName='AWS::SQS::Queue',
                                        Identifier=url)['ProgressEvent'])
    assert ev['OperationStatus'] == 'FAILED' and ev['ErrorCode'] == 'NotFound'


def test_client_token_is_idempotent(cc):
    a = cc.create_resource(TypeName='AWS::SNS::Topic', DesiredState='{}',
                           ClientToken='tok-1')['ProgressEvent']
    b = cc.create_resource(TypeName='AWS::SNS::Topic', DesiredState='{}',
                           ClientToken='tok-1')['ProgressEvent']
    assert a['RequestToken'] == b['RequestToken']
    ev, _ = wait(cc, b)
    assert ev['Identifier'].startswith('arn:aws:sns:us-east-1:123456789012:Topic-')
    listed = cc.list_resources(TypeName='AWS::SNS::Topic')['ResourceDescriptions']
    assert [d['Identifier'] for d in listed] == [ev['Identifier']]


def test_validation_and_types(cc):
    ev, _ = create(cc, 'AWS::DynamoDB::Table', {'BillingMode': 'PAY_PER_REQUEST'})
    assert ev['OperationStatus'] == 'FAILED' and ev['ErrorCode'] == 'InvalidRequest'
    assert 'KeySchema' in ev['StatusMessage']
    ev, _ = create(cc, 'AWS::SQS::Queue', {'VisibilityTimeout': 'soon'})
    assert ev['ErrorCode'] == 'InvalidRequest' and 'VisibilityTimeout' in ev['StatusMessage']
    ev, _ = create(cc, 'AWS::SQS::Queue', {'Nope': 1})
    assert ev['ErrorCode'] == 'InvalidRequest' and 'Nope' in ev['StatusMessage']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cc.create_resource(TypeName='AWS::Nope::Thing', DesiredState='{}')
    assert code(e) == 'TypeNotFoundException'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cc.create_resource(TypeName='AWS::CloudFormation::WaitConditionHandle',
                           DesiredState='{}')
    assert code(e) == 'UnsupportedActionException'


def test_missing_reference_fails(cc):
    dlq = 'arn:aws:sqs:us-east-1:123456789012:missing-dlq'
    ev, _ = create(cc, 'AWS::SQS::Queue', {'RedrivePolicy': {
        'deadLetterTargetArn': dlq, 'maxReceiveCount': 3}})
    assert ev['OperationStatus'] == 'FAILED' and ev['ErrorCode'] == 'NotFound'
    assert dlq in ev['StatusMessage']
    ev, _ = create(cc, 'AWS::SQS::Queue', {'QueueName': 'missing-dlq'})
    assert ev['OperationStatus'] == 'SUCCESS'
    ev, _ = create(cc, 'AWS::SQS::Queue', {'RedrivePolicy': {
        'deadLetterTargetArn': dlq, 'maxReceiveCount': 3}})
    assert ev['OperationStatus'] == 'SUCCESS'


def test_generated_attributes(cc):
    ev, _ = create(cc, 'AWS::KMS::Key', {'Description': 'k'})
    key = json.loads(cc.get_resource(TypeName='AWS::KMS::Key', Identifier=ev['Identifier'])
                     ['ResourceDescription']['Properties'])
    assert key['Arn'] == f'arn:aws:kms:us-east-1:123456789012:key/{key["KeyId"]}'
    assert ev['Identifier'] == key['KeyId']
    ev, _ = create(cc, 'AWS::DynamoDB::Table', {
        'TableName': 't1', 'BillingMode': 'PAY_PER_REQUEST',
        'AttributeDefinitions': [{'AttributeName': 'id', 'AttributeType': 'S'}],
        'KeySchema': [{'AttributeName': 'id', 'KeyType': 'HASH'}]})
    assert ev['Identifier'] == 't1'
    t = json.loads(cc.get_resource(TypeName='AWS::DynamoDB::Table', Identifier='t1')
                   ['ResourceDescription']['Properties'])
    assert t['Arn'] == 'arn:aws:dynamodb:us-east-1:123456789012:table/t1'


def test_list_pages(cc):
    for i in range(55):
        cc.create_resource(TypeName='AWS::SNS::Topic',
                           DesiredState=json.dumps({'TopicName': f't{i:02d}'}))
    time.sleep(0.7)
    r = cc.list_resources(TypeName='AWS::SNS::Topic')
    assert len(r['ResourceDescriptions']) == 50 and r['NextToken']
    r2 = cc.list_resources(TypeName='AWS::SNS::Topic', NextToken=r['NextToken'])
    assert len(r2['ResourceDescriptions']) == 5 and 'NextToken' not in r2


def test_describe_type(emulator):
    cf = emulator.client('cloudformation')
    d = cf.describe_type(Type='RESOURCE', TypeName='AWS::SQS::Queue')
    assert d['ProvisioningType'] == 'FULLY_MUTABLE'
    assert json.loads(d['Schema'])['typeName'] == 'AWS::SQS::Queue'
    d = cf.describe_type(Type='RESOURCE', TypeName='AWS::OpsWorks::Stack')
    assert d['ProvisioningType'] == 'NON_PROVISIONABLE'


def test_state_survives_a_restart(tmp_path):
    """With --state-dir, Cloud Control resources and requests are saved and
    come back (the store is plain JSON)."""
    from conftest import Emulator
    e = Emulator(['--state-dir', str(tmp_path)])
    try:
        cc = e.client('cloudcontrol')
        ev, _ = create(cc, 'AWS::SNS::Topic', {'TopicName': 'kept'}, token='tok-keep')
    finally:
        e.stop()
    e = Emulator(['--state-dir', str(tmp_path)])
    try:
        cc = e.client('cloudcontrol')
        props = json.loads(cc.get_resource(TypeName='AWS::SNS::Topic', Identifier=ev['Identifier'])
                           ['ResourceDescription']['Properties'])
        assert props['TopicName'] == 'kept'
        again = cc.create_resource(TypeName='AWS::SNS::Topic', DesiredState='{}',
                                   ClientToken='tok-keep')['ProgressEvent']
        assert again['RequestToken'] == ev['RequestToken']
    finally:
        e.stop()
