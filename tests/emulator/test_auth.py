"""SigV4 verification: every kind of bad signature, per protocol, plus STS
temporary credentials accepted until they expire."""
import datetime
import json
import xml.etree.ElementTree as ET

import botocore.exceptions
import pytest

TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]})

# one cheap read per protocol: (service, kwargs for emulator.raw)
CALLS = {
    'query': ('sts', dict(params={'Action': 'GetCallerIdentity', 'Version': '2011-06-15'})),
    'ec2': ('ec2', dict(params={'Action': 'DescribeAvailabilityZones', 'Version': '2016-11-15'})),
    'json': ('logs', dict(body=b'{}', headers={'Content-Type': 'application/x-amz-json-1.1',
                                                'X-Amz-Target':
                                                    'Logs_20140328.DescribeLogGroups'})),
    's3': ('s3', dict(method='GET', path='/')),
}


def code_of(protocol, body):
    if protocol == 'json':
        return json.loads(body)['__type']
    root = ET.fromstring(body)
    for el in root.iter():
        if el.tag.split('}')[-1] == 'Code':
            return el.text
    raise AssertionError(body)


def call(emulator, protocol, **over):
    service, kw = CALLS[protocol]
    kw = dict(kw)
    kw.update(over)
    return emulator.raw(service, **kw)


@pytest.mark.parametrize('protocol', sorted(CALLS))
def test_good_signature_accepted(emulator, protocol):
    st, _, body = call(emulator, protocol)
    assert st == 200, body


EXPECT = {
    # protocol: {case: (status, code)}
    'query': {'missing': (403, 'MissingAuthenticationToken'),
              'malformed': (403, 'IncompleteSignature'),
              'wrong_secret': (403, 'SignatureDoesNotMatch'),
              'unknown_key': (403, 'InvalidClientTokenId'),
              'expired': (403, 'SignatureDoesNotMatch'),
              'bad_token': (403, 'InvalidClientTokenId')},
    'ec2': {'missing': (401, 'MissingAuthenticationToken'),
            'malformed': (400, 'IncompleteSignature'),
            'wrong_secret': (401, 'AuthFailure'),
            'unknown_key': (401, 'AuthFailure'),
            'expired': (400, 'RequestExpired'),
            'bad_token': (401, 'AuthFailure')},
    'json': {'missing': (400, 'MissingAuthenticationTokenException'),
             'malformed': (400, 'IncompleteSignatureException'),
             'wrong_secret': (400, 'InvalidSignatureException'),
             'unknown_key': (400, 'UnrecognizedClientException'),
             'expired': (400, 'InvalidSignatureException'),
             'bad_token': (400, 'UnrecognizedClientException')},
    's3': {'missing': (403, 'AccessDenied'),
           'malformed': (400, 'AuthorizationHeaderMalformed'),
           'wrong_secret': (403, 'SignatureDoesNotMatch'),
           'unknown_key': (403, 'InvalidAccessKeyId'),
           'expired': (403, 'RequestTimeTooSkewed'),
           'bad_token': (400, 'InvalidToken')},
}

CASES = {
    'missing': dict(sign=False),
    'wrong_secret': dict(secret_key='not-the-secret'),
    'unknown_key': dict(access_key='AKIDNOBODY', secret_key='x'),
    'expired': dict(when=datetime.datetime.utcnow() - datetime.timedelta(minutes=16)),
    'bad_token': dict(token='forged-session-token'),
}


@pytest.mark.parametrize('protocol', sorted(EXPECT))
@pytest.mark.parametrize('case', sorted(CASES) + ['malformed'])
def test_rejections(emulator, protocol, case):
    if case == 'malformed':
        service, kw = CALLS[protocol]
        kw = dict(kw, sign=False)
        kw['headers'] = dict(kw.get('headers') or {})
        kw['headers']['Authorization'] = \
            'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1, Signature=abc'
        kw['headers']['X-Amz-Date'] = '20260101T000000Z'
        st, _, body = emulator.raw(service, **kw)
    else:
        st, _, body = call(emulator, protocol, **CASES[case])
    want_status, want_code = EXPECT[protocol][case]
    assert (st, code_of(protocol if protocol == 'json' else 'xml', body)) == \
        (want_status, want_code)


def test_future_date_refused(emulator):
    st, _, body = call(emulator, 'json',
                       when=datetime.datetime.utcnow() + datetime.timedelta(minutes=20))
    assert st == 400 and json.loads(body)['__type'] == 'InvalidSignatureException'
    assert 'not yet current' in json.loads(body)['message']


def test_small_skew_accepted(emulator):
    st, _, _ = call(emulator, 'json',
                    when=datetime.datetime.utcnow() - datetime.timedelta(minutes=4))
    assert st == 200


@pytest.mark.parametrize('protocol,minutes,ok', [
    ('json', 6, False), ('query', 6, False), ('ec2', 6, False), ('s3', 6, True),
    ('s3', 16, False)])
def test_window_per_protocol(emulator, protocol, minutes, ok):
    # SigV4 services refuse 5 minutes away, S3 15 minutes
    st, _, body = call(emulator, protocol,
                       when=datetime.datetime.utcnow() - datetime.timedelta(minutes=minutes))
    assert (st == 200) == ok, body
    if not ok:
        assert (st, code_of('json' if protocol == 'json' else 'xml', body)) == \
            EXPECT[protocol]['expired']


def test_server_clock_offset(emulator):
    """A server whose clock is 20 minutes ahead refuses a request signed now,
    says so in its protocol's code, and tells its time in the Date header."""
    import email.utils
    import time
    emulator.control('config', {'server_clock_offset': 1200})
    try:
        for protocol in sorted(CALLS):
            st, hdrs, body = call(emulator, protocol)
            assert (st, code_of('json' if protocol == 'json' else 'xml', body)) == \
                EXPECT[protocol]['expired'], protocol
            server = email.utils.parsedate_to_datetime(hdrs['date']).timestamp()
            assert abs(server - (time.time() + 1200)) < 5
        st, _, body = call(emulator, 'query')
        assert b'Signature expired' in body and b'- 5 min.' in body
        # signed with the server's time, it is accepted
        st, _, body = call(emulator, 'json', when=datetime.datetime.utcnow() +
                           datetime.timedelta(minutes=20))
        assert st == 200, body
    finally:
        emulator.control('config', {'server_clock_offset': 0})


def test_tampered_body_refused(emulator):
    # sign one body, send another
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import http.client
    req = botocore.awsrequest.AWSRequest(
        method='POST', url=emulator.url + '/', data=b'Action=GetCallerIdentity&Version=2011-06-15',
        headers={'Content-Type': 'application/x-www-form-urlencoded'})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials('test', 'test'), 'sts',
                            'us-east-1').add_auth(req)
    conn = http.client.HTTPConnection('127.0.0.1', emulator.port, timeout=5)
    conn.request('POST', '/', body=b'Action=GetCallerIdentity&Version=2011-06-15&x=1',
                 headers=dict(req.headers.items()))
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 403 and code_of('xml', body) == 'SignatureDoesNotMatch'


def test_wrong_region_scope_still_verified(emulator):
    # a signature made for eu-west-1 is valid for eu-west-1 (the scope is honoured)
    st, _, _ = call(emulator, 'json', region='eu-west-1')
    assert st == 200


def test_s3_payload_hash_mismatch(emulator):
    emulator.client('s3').create_bucket(Bucket='hashes')
    st, _, body = emulator.raw('s3', method='PUT', path='/hashes/k', body=b'abc',
                               send_body=b'abd')
    assert st == 400
    assert code_of('xml', body) == 'XAmzContentSHA256Mismatch'
    assert emulator.control('inventory') == [{'service': 's3', 'type': 'bucket',
                                              'id': 'hashes'}]


def _role(emulator, name='app', max_session=3600):
    iam = emulator.client('iam')
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST,
                           MaxSessionDuration=max_session)['Role']


def test_assumed_role_credentials_accepted_everywhere(emulator):
    role = _role(emulator)
    creds = emulator.client('sts').assume_role(RoleArn=role['Arn'],
                                               RoleSessionName='deploy')['Credentials']
    assert creds['AccessKeyId'].startswith('ASIA') and len(creds['AccessKeyId']) == 20
    kw = dict(access_key=creds['AccessKeyId'], secret_key=creds['SecretAccessKey'],
              token=creds['SessionToken'])
    ident = emulator.client('sts', **kw).get_caller_identity()
    assert ident['Arn'] == 'arn:aws:sts::123456789012:assumed-role/app/deploy'
    assert ident['UserId'] == role['RoleId'] + ':deploy'
    emulator.client('logs', **kw).describe_log_groups()
    emulator.client('s3', **kw).list_buckets()


def test_session_credentials_need_their_token(emulator):
    role = _role(emulator)
    creds = emulator.client('sts').assume_role(RoleArn=role['Arn'],
                                               RoleSessionName='deploy')['Credentials']
    c = emulator.client('logs', access_key=creds['AccessKeyId'],
                        secret_key=creds['SecretAccessKey'])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.describe_log_groups()
    assert e.value.response['Error']['Code'] == 'UnrecognizedClientException'


def test_session_credentials_expire(emulator):
    role = _role(emulator)
    creds = emulator.client('sts').assume_role(RoleArn=role['Arn'], RoleSessionName='short',
                                               DurationSeconds=900)['Credentials']
    kw = dict(access_key=creds['AccessKeyId'], secret_key=creds['SecretAccessKey'],
              token=creds['SessionToken'])
    emulator.client('sts', **kw).get_caller_identity()
    emulator.control('config', {'clock_offset': 901})
    try:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            emulator.client('sts', **kw).get_caller_identity()
        assert e.value.response['Error']['Code'] == 'ExpiredToken'
        with pytest.raises(botocore.exceptions.ClientError) as e:
            emulator.client('logs', **kw).describe_log_groups()
        assert e.value.response['Error']['Code'] == 'ExpiredTokenException'
    finally:
        emulator.control('config', {'clock_offset': 0})


def test_configured_credentials(emulator):
    emulator.control('config', {'credentials': {
        'AKIAOTHERACCOUNT0001': {'secret': 's3cret', 'account': '210987654321'}}})
    c = emulator.client('sts', access_key='AKIAOTHERACCOUNT0001', secret_key='s3cret')
    assert c.get_caller_identity()['Account'] == '210987654321'
    # the default pair keeps working (config merges)
    assert emulator.client('sts').get_caller_identity()['Account'] == '123456789012'


class _UnsignedPayload(__import__('botocore.auth').auth.S3SigV4Auth):
    def payload(self, request):
        return 'UNSIGNED-PAYLOAD'


def test_s3_unsigned_payload_accepted(emulator):
    emulator.client('s3').create_bucket(Bucket='unsigned')
    st, _, body = emulator.raw('s3', method='PUT', path='/unsigned/k', body=b'abc',
                               auth_cls=_UnsignedPayload)
    assert st == 200, body
    # the payload is not covered by the signature: another body is accepted too
    st, _, _ = emulator.raw('s3', method='PUT', path='/unsigned/k', body=b'abc',
                            auth_cls=_UnsignedPayload, send_body=b'xyz')
    assert st == 200
    assert emulator.client('s3').get_object(Bucket='unsigned', Key='k')['Body'].read() == b'xyz'


class _NoContentSha(__import__('botocore.auth').auth.SigV4Auth):
    pass


def test_s3_requires_content_sha_header(emulator):
    st, _, body = emulator.raw('s3', method='GET', path='/', auth_cls=_NoContentSha)
    assert st == 400 and code_of('xml', body) == 'InvalidRequest'
