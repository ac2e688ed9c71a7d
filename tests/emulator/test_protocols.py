"""Wire protocols: parameter validation per protocol, error formats, routing.

Requests are made by hand (signed with botocore's signer) so that invalid input
reaches the emulator; expected codes are AWS's documented ones, not whatever
the emulator happens to produce.
"""
import json
import re
import xml.etree.ElementTree as ET

import botocore.exceptions
import pytest

UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')


def _xml(body):
    root = ET.fromstring(body)
    for el in root.iter():
        el.tag = el.tag.split('}', 1)[-1]
    return root


def json_call(emulator, service, target, payload, **kw):
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return emulator.raw(service, body=body, headers={
        'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target}, **kw)


# --- EC2 query ------------------------------------------------------------

def test_ec2_unknown_parameter(emulator):
    st, h, body = emulator.raw('ec2', params={'Action': 'DescribeVpcs',
                                              'Version': '2016-11-15', 'Bogus': 'x'})
    assert st == 400
    root = _xml(body)
    assert root.tag == 'Response'
    assert root.find('Errors/Error/Code').text == 'UnknownParameter'
    assert 'Bogus' in root.find('Errors/Error/Message').text
    assert UUID_RE.match(root.find('RequestID').text)


def test_ec2_missing_parameter(emulator):
    st, _, body = emulator.raw('ec2', params={'Action': 'CreateSubnet',
                                              'Version': '2016-11-15',
                                              'CidrBlock': '10.0.0.0/24'})
    assert st == 400
    root = _xml(body)
    assert root.find('Errors/Error/Code').text == 'MissingParameter'
    assert 'VpcId' in root.find('Errors/Error/Message').text


def test_ec2_wrong_type(emulator):
    st, _, body = emulator.raw('ec2', params={'Action': 'DescribeVpcs',
                                              'Version': '2016-11-15',
                                              'MaxResults': 'lots'})
    assert st == 400
    assert _xml(body).find('Errors/Error/Code').text == 'InvalidParameterValue'


def test_ec2_bad_list_index_is_unknown(emulator):
    st, _, body = emulator.raw('ec2', params={'Action': 'DescribeVpcs',
                                              'Version': '2016-11-15',
                                              'VpcId.x': 'vpc-1'})
    assert st == 400
    assert _xml(body).find('Errors/Error/Code').text == 'UnknownParameter'


def test_ec2_invalid_action(emulator):
    st, _, body = emulator.raw('ec2', params={'Action': 'LaunchRockets',
                                              'Version': '2016-11-15'})
    assert st == 400
    assert _xml(body).find('Errors/Error/Code').text == 'InvalidAction'


# --- query (IAM / STS) --------------------------------------------------------

def test_query_missing_required_is_validation_error(emulator):
    st, h, body = emulator.raw('iam', params={'Action': 'CreateRole', 'Version': '2010-05-08',
                                              'RoleName': 'r'})
    assert st == 400
    root = _xml(body)
    assert root.tag == 'ErrorResponse'
    assert root.find('Error/Type').text == 'Sender'
    assert root.find('Error/Code').text == 'ValidationError'
    assert 'assumeRolePolicyDocument' in root.find('Error/Message').text
    assert UUID_RE.match(root.find('RequestId').text)
    assert h['x-amzn-requestid'] == root.find('RequestId').text


def test_query_unknown_parameter(emulator):
    st, _, body = emulator.raw('iam', params={'Action': 'ListRoles', 'Version': '2010-05-08',
                                              'Colour': 'blue'})
    assert st == 400
    assert _xml(body).find('Error/Code').text == 'ValidationError'


def test_query_wrong_type_and_range(emulator):
    st, _, body = emulator.raw('iam', params={'Action': 'ListRoles', 'Version': '2010-05-08',
                                              'MaxItems': 'ten'})
    assert st == 400 and _xml(body).find('Error/Code').text == 'ValidationError'
    st, _, body = emulator.raw('iam', params={'Action': 'ListRoles', 'Version': '2010-05-08',
                                              'MaxItems': '0'})
    assert st == 400 and _xml(body).find('Error/Code').text == 'ValidationError'


def test_query_member_lists_parsed(emulator):
    trust = json.dumps({'Version': '2012-10-17', 'Statement': [{
        'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
        'Action': 'sts:AssumeRole'}]})
    st, _, body = emulator.raw('iam', params={
        'Action': 'CreateRole', 'Version': '2010-05-08', 'RoleName': 'tagged',
        'AssumeRolePolicyDocument': trust,
        'Tags.member.1.Key': 'a', 'Tags.member.1.Value': '1',
        'Tags.member.2.Key': 'b', 'Tags.member.2.Value': '2'})
    assert st == 200, body
    root = _xml(body)
    assert root.tag == 'CreateRoleResponse'
    assert root.find('CreateRoleResult/Role/RoleName').text == 'tagged'
    assert [m.find('Key').text for m in root.findall('CreateRoleResult/Role/Tags/member')] == \
        ['a', 'b']
    assert UUID_RE.match(root.find('ResponseMetadata/RequestId').text)


def test_query_response_namespace(emulator):
    st, _, body = emulator.raw('sts', params={'Action': 'GetCallerIdentity',
                                              'Version': '2011-06-15'})
    assert st == 200
    root = ET.fromstring(body)
    assert root.tag == '{https://sts.amazonaws.com/doc/2011-06-15/}GetCallerIdentityResponse'


# --- JSON 1.1 -------------------------------------------------------------------

def test_json_wrong_type_is_serialization_exception(emulator):
    st, h, body = json_call(emulator, 'logs', 'Logs_20140328.CreateLogGroup',
                            {'logGroupName': 5})
    assert st == 400
    doc = json.loads(body)
    assert doc['__type'] == 'SerializationException'
    assert h['content-type'] == 'application/x-amz-json-1.1'
    assert UUID_RE.match(h['x-amzn-requestid'])


def test_json_unknown_field_is_serialization_exception(emulator):
    st, _, body = json_call(emulator, 'logs', 'Logs_20140328.CreateLogGroup',
                            {'logGroupName': 'g', 'colour': 'blue'})
    assert st == 400
    assert json.loads(body)['__type'] == 'SerializationException'


def test_json_missing_required_is_validation_exception(emulator):
    st, _, body = json_call(emulator, 'secretsmanager', 'secretsmanager.GetSecretValue', {})
    assert st == 400
    doc = json.loads(body)
    assert doc['__type'] == 'ValidationException'
    assert "'secretId'" in doc['message'] and 'must not be null' in doc['message']


def test_json_length_constraint(emulator):
    st, _, body = json_call(emulator, 'logs', 'Logs_20140328.CreateLogGroup',
                            {'logGroupName': 'x' * 513})
    assert st == 400
    assert json.loads(body)['__type'] == 'ValidationException'


def test_json_not_json(emulator):
    st, _, body = json_call(emulator, 'logs', 'Logs_20140328.DescribeLogGroups', b'{nope')
    assert st == 400
    assert json.loads(body)['__type'] == 'SerializationException'


def test_json_unknown_target(emulator):
    st, _, body = json_call(emulator, 'logs', 'Logs_20140328.Teleport', {})
    assert st == 400
    assert json.loads(body)['__type'] == 'UnknownOperationException'


def test_json_error_status_from_model(emulator):
    st, _, body = json_call(emulator, 'logs', 'Logs_20140328.DeleteLogGroup',
                            {'logGroupName': 'missing'})
    assert st == 400
    assert json.loads(body)['__type'] == 'ResourceNotFoundException'


def test_iam_error_status_from_model(emulator):
    st, _, body = emulator.raw('iam', params={'Action': 'GetRole', 'Version': '2010-05-08',
                                              'RoleName': 'missing'})
    assert st == 404      # the IAM model gives NoSuchEntity HTTP 404
    assert _xml(body).find('Error/Code').text == 'NoSuchEntity'


# --- timestamps and typed output ----------------------------------------------------

def test_timestamps_per_protocol(emulator):
    emulator.client('logs').create_log_group(logGroupName='ts')
    g = emulator.client('logs').describe_log_groups()['logGroups'][0]
    assert isinstance(g['creationTime'], int) and g['creationTime'] > 1.6e12   # ms epoch
    st, _, body = emulator.raw('iam', params={
        'Action': 'CreatePolicy', 'Version': '2010-05-08', 'PolicyName': 'p',
        'PolicyDocument': json.dumps({'Version': '2012-10-17', 'Statement': [
            {'Effect': 'Allow', 'Action': 's3:GetObject', 'Resource': '*'}]})})
    assert st == 200
    created = _xml(body).find('CreatePolicyResult/Policy/CreateDate').text
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$', created)


def test_keep_alive_connection_reused(emulator):
    import http.client
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    conn = http.client.HTTPConnection('127.0.0.1', emulator.port, timeout=5)
    for _ in range(3):
        req = botocore.awsrequest.AWSRequest(
            method='POST', url=emulator.url + '/',
            data=b'Action=GetCallerIdentity&Version=2011-06-15',
            headers={'Content-Type': 'application/x-www-form-urlencoded'})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials('test', 'test'),
                                'sts', 'us-east-1').add_auth(req)
        conn.request('POST', '/', body=req.body, headers=dict(req.headers.items()))
        r = conn.getresponse()
        assert r.status == 200
        r.read()
    assert conn.sock is not None        # still the same open connection
    conn.close()


def test_botocore_parses_every_error_kind(emulator):
    logs = emulator.client('logs')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.delete_log_group(logGroupName='nope')
    assert e.value.response['Error']['Code'] == 'ResourceNotFoundException'
    iam = emulator.client('iam')
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName='nope')


def test_json_error_message_member_follows_the_model(emulator):
    st, _, body = json_call(emulator, 'secretsmanager', 'secretsmanager.DescribeSecret',
                            {'SecretId': 'nope'})
    assert st == 400
    assert set(json.loads(body)) == {'__type', 'Message'}       # SM's shapes say Message
    st, _, body = json_call(emulator, 'logs', 'Logs_20140328.DeleteLogGroup',
                            {'logGroupName': 'nope'})
    assert set(json.loads(body)) == {'__type', 'message'}
