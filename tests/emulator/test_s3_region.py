"""S3 bucket regions: what the emulator answers when a bucket is addressed
from another Region's endpoint or signed for another Region (301
PermanentRedirect, 400 AuthorizationHeaderMalformed, 307 TemporaryRedirect,
400 IllegalLocationConstraintException for opt-in Regions), CreateBucket's
LocationConstraint rules, and botocore's own redirect handler following the
answers (docs/aws-behaviour.md, "S3 bucket regions")."""
import re

import botocore.exceptions
import pytest


def err(e):
    r = e.value.response
    return r['Error']['Code'], r['ResponseMetadata']['HTTPStatusCode']


def _make(emulator, name, region):
    c = emulator.client('s3', region=region)
    if region == 'us-east-1':
        c.create_bucket(Bucket=name)
    else:
        c.create_bucket(Bucket=name, CreateBucketConfiguration={'LocationConstraint': region})
    return c


def _tag(body, tag):
    m = re.search(rf'<{tag}>([^<]*)</{tag}>'.encode(), body)
    return m.group(1).decode() if m else None


def test_path_style_other_region_is_301_with_region_header(emulator):
    _make(emulator, 'eu-b', 'eu-west-1')
    st, h, body = emulator.raw('s3', 'GET', '/eu-b?list-type=2', region='us-east-1')
    assert st == 301
    assert h['x-amz-bucket-region'] == 'eu-west-1'
    assert _tag(body, 'Code') == 'PermanentRedirect'
    assert _tag(body, 'Endpoint') == 's3.eu-west-1.amazonaws.com'
    assert _tag(body, 'Bucket') == 'eu-b'
    # the other way round: a us-east-1 bucket from eu-west-1's endpoint
    _make(emulator, 'us-b', 'us-east-1')
    st, h, body = emulator.raw('s3', 'GET', '/us-b?list-type=2', region='eu-west-1')
    assert (st, h['x-amz-bucket-region']) == (301, 'us-east-1')
    assert _tag(body, 'Endpoint') == 's3.amazonaws.com'


def test_head_redirect_has_no_body(emulator):
    _make(emulator, 'eu-h', 'eu-west-1')
    for path in ('/eu-h', '/eu-h/some-key'):
        st, h, body = emulator.raw('s3', 'HEAD', path, region='us-east-1')
        assert (st, body) == (301, b'')
        assert h['x-amz-bucket-region'] == 'eu-west-1'


def test_right_endpoint_wrong_signing_region_is_authorization_header_malformed(emulator):
    _make(emulator, 'eu-s', 'eu-west-1')
    st, h, body = emulator.raw('s3', 'GET', '/eu-s?list-type=2', region='us-west-2',
                               headers={'Host': 's3.eu-west-1.amazonaws.com'})
    assert st == 400
    assert _tag(body, 'Code') == 'AuthorizationHeaderMalformed'
    assert _tag(body, 'Region') == 'eu-west-1'
    assert "the region 'us-west-2' is wrong; expecting 'eu-west-1'" in _tag(body, 'Message')
    # the host names the endpoint: the same request at us-west-2's endpoint is a 301
    st, h, body = emulator.raw('s3', 'GET', '/eu-s?list-type=2', region='us-west-2',
                               headers={'Host': 's3.us-west-2.amazonaws.com'})
    assert (st, h['x-amz-bucket-region']) == (301, 'eu-west-1')
    # virtual-hosted at the regional name, signed right: served
    st, h, body = emulator.raw('s3', 'GET', '/?list-type=2', region='eu-west-1',
                               headers={'Host': 'eu-s.s3.eu-west-1.amazonaws.com'})
    assert st == 200, body
    assert _tag(body, 'Name') == 'eu-s'


def test_global_virtual_hosted_name_new_bucket_is_307(emulator):
    emulator.control('config', {'s3_dns_propagation_seconds': 3600})
    try:
        _make(emulator, 'eu-new', 'eu-west-1')
        st, h, body = emulator.raw('s3', 'GET', '/k?x=1', region='us-east-1',
                                   headers={'Host': 'eu-new.s3.amazonaws.com'})
        assert st == 307
        assert h['x-amz-bucket-region'] == 'eu-west-1'
        assert h['location'] == 'https://eu-new.s3.eu-west-1.amazonaws.com/k?x=1'
        assert _tag(body, 'Code') == 'TemporaryRedirect'
        assert _tag(body, 'Endpoint') == 'eu-new.s3.eu-west-1.amazonaws.com'
    finally:
        emulator.control('config', {'s3_dns_propagation_seconds': 0})
    # propagated: DNS takes the global name to eu-west-1, which wants its
    # own Region in the signature
    st, h, body = emulator.raw('s3', 'GET', '/k', region='us-east-1',
                               headers={'Host': 'eu-new.s3.amazonaws.com'})
    assert (st, _tag(body, 'Code'), _tag(body, 'Region')) == \
        (400, 'AuthorizationHeaderMalformed', 'eu-west-1')


def test_opt_in_region_answers_illegal_location_constraint(emulator):
    _make(emulator, 'af-b', 'af-south-1')
    st, h, body = emulator.raw('s3', 'GET', '/af-b?list-type=2', region='us-east-1')
    assert st == 400
    assert _tag(body, 'Code') == 'IllegalLocationConstraintException'
    assert _tag(body, 'Message').startswith('The af-south-1 location constraint')


def test_create_bucket_location_constraint_rules(emulator):
    us = emulator.client('s3', region='us-east-1')
    eu = emulator.client('s3', region='eu-west-1')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        us.create_bucket(Bucket='c-1', CreateBucketConfiguration={'LocationConstraint':
                                                                   'us-east-1'})
    assert err(e) == ('InvalidLocationConstraint', 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        eu.create_bucket(Bucket='c-2')
    assert err(e) == ('IllegalLocationConstraintException', 400)
    assert 'unspecified location constraint' in e.value.response['Error']['Message']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        eu.create_bucket(Bucket='c-3', CreateBucketConfiguration={'LocationConstraint':
                                                                   'us-west-2'})
    assert err(e) == ('IllegalLocationConstraintException', 400)
    # the global endpoint (us-east-1) creates anywhere
    us.create_bucket(Bucket='c-4', CreateBucketConfiguration={'LocationConstraint':
                                                               'eu-west-1'})
    assert us.get_bucket_location(Bucket='c-4')['LocationConstraint'] == 'eu-west-1'


def test_head_bucket_names_region_and_location_answers_anywhere(emulator):
    _make(emulator, 'eu-l', 'eu-west-1')
    us = emulator.client('s3', region='us-east-1')
    assert us.get_bucket_location(Bucket='eu-l')['LocationConstraint'] == 'eu-west-1'
    eu = emulator.client('s3', region='eu-west-1')
    h = eu.head_bucket(Bucket='eu-l')['ResponseMetadata']['HTTPHeaders']
    assert h['x-amz-bucket-region'] == 'eu-west-1'
    # ListBuckets (global) says where each one is
    st, _h, body = emulator.raw('s3', 'GET', '/', region='us-east-1')
    assert st == 200 and b'<Name>eu-l</Name>' in body
    regions = {m.group(1): m.group(2) for m in re.finditer(
        rb'<Bucket>(?=(?:(?!</Bucket>).)*<Name>([^<]*)</Name>)'
        rb'(?=(?:(?!</Bucket>).)*<BucketRegion>([^<]*)</BucketRegion>)', body)}
    assert regions[b'eu-l'] == b'eu-west-1'


def test_botocore_redirector_follows_the_answers(emulator):
    """botocore's S3RegionRedirectorv2 re-signs for the Region the answer names
    and sends again: if the emulator answered differently from AWS, these
    calls would fail."""
    _make(emulator, 'eu-r', 'eu-west-1')
    us = emulator.client('s3', region='us-east-1')
    us.put_object(Bucket='eu-r', Key='k', Body=b'hello')
    assert us.get_object(Bucket='eu-r', Key='k')['Body'].read() == b'hello'
    assert us.head_object(Bucket='eu-r', Key='k')['ContentLength'] == 5
    us.put_bucket_policy(Bucket='eu-r', Policy='{"Version":"2012-10-17","Statement":[{'
                         '"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":'
                         '"arn:aws:s3:::eu-r/*","Condition":{"Bool":{"aws:SecureTransport":'
                         '"false"}}}]}')
    assert 'Deny' in us.get_bucket_policy(Bucket='eu-r')['Policy']
    _make(emulator, 'us-r', 'us-east-1')
    eu = emulator.client('s3', region='eu-west-1')
    eu.put_object(Bucket='us-r', Key='k', Body=b'x')
    assert eu.list_objects_v2(Bucket='us-r')['KeyCount'] == 1
