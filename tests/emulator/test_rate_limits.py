"""The rate_limits knob: AWS's documented token buckets per account, Region
and API (data/rate-limits/rate-limits.json; sources in docs/aws-behaviour.md,
"Request rate limits"), each protocol's throttling error when a bucket is
empty, rate_scale, and the throttled counter."""
import time

import botocore.exceptions
import pytest

from emu import ratelimits


def code(e):
    return e.response['Error']['Code']


def burst_then_refused(call, n):
    """Makes n calls back to back; -> (answered, refused codes)."""
    ok, refused = 0, []
    for _ in range(n):
        try:
            call()
            ok += 1
        except botocore.exceptions.ClientError as e:
            refused.append(code(e))
    return ok, refused


def test_table_sizes_are_the_documented_ones():
    t = ratelimits.documented()
    # EC2: every API its own bucket; mutating 50/5, reads 100/20, the
    # unfiltered Describe* 50/10, CreateNatGateway 10/1 (EC2 API throttling page)
    assert ratelimits.bucket_for(t, 'ec2', 'CreateSubnet') == ('ec2:CreateSubnet', 50, 5, False)
    assert ratelimits.bucket_for(t, 'ec2', 'DescribeSubnets') == ('ec2:DescribeSubnets', 100,
                                                                  20, False)
    assert ratelimits.bucket_for(t, 'ec2', 'DescribeSecurityGroups')[1:3] == (50, 10)
    assert ratelimits.bucket_for(t, 'ec2', 'CreateNatGateway')[1:3] == (10, 1)
    # ECS: a category shares one bucket (ECS request throttling page)
    assert ratelimits.bucket_for(t, 'ecs', 'CreateService') == \
        ratelimits.bucket_for(t, 'ecs', 'DeleteService') == ('ecs:service_modify', 50, 5, False)
    # IAM: global, one bucket for every mutating call
    assert ratelimits.bucket_for(t, 'iam', 'CreateRole') == ('iam:mutating', 10, 10, True)
    assert ratelimits.bucket_for(t, 'resourcegroupstaggingapi', 'GetResources')[0] == \
        'tagging:read'


def test_off_by_default(emulator):
    logs = emulator.client('logs')
    ok, refused = burst_then_refused(
        lambda: logs.describe_log_groups(logGroupNamePrefix='/x'), 30)
    assert (ok, refused) == (30, [])


@pytest.mark.parametrize('service,call,expect', [
    # mutating: 5 a burst at 5/s
    ('logs', lambda c, i: c.create_log_group(logGroupName=f'/rl/{i}'), 'ThrottlingException'),
    # Query protocol, one global bucket for IAM's mutating calls: 10
    ('iam', lambda c, i: c.create_policy(PolicyName=f'rl{i}', PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
        '"Resource":"*"}]}')), 'Throttling'),
])
def test_a_burst_beyond_the_bucket_is_refused(emulator, service, call, expect):
    emulator.control('config', {'rate_limits': True, 'rate_scale': 0.001})
    c = emulator.client(service)
    burst = {'logs': 5, 'iam': 10}[service]
    n = [0]

    def one():
        n[0] += 1
        return call(c, n[0])
    ok, refused = burst_then_refused(one, burst + 3)
    assert ok == burst and refused == [expect] * 3
    op = {'logs': 'logs:CreateLogGroup', 'iam': 'iam:CreatePolicy'}[service]
    assert emulator.control('throttled') == {op: 3}
    # every attempt is in the call counts, refused ones too
    assert emulator.control('calls')[op] == burst + 3


def test_ec2_throttling_error_and_per_api_buckets(emulator):
    emulator.control('config', {'rate_limits': {'ec2': {
        'per_api': True, 'read': [3, 0.001], 'mutating': [2, 0.001]}}})
    ec2 = emulator.client('ec2')
    ok, refused = burst_then_refused(lambda: ec2.describe_vpcs(), 5)
    assert ok == 3 and refused == ['RequestLimitExceeded'] * 2
    # another API has its own bucket (EC2 evaluates each API individually)
    ok, refused = burst_then_refused(lambda: ec2.describe_subnets(), 4)
    assert ok == 3 and refused == ['RequestLimitExceeded']
    try:
        ec2.describe_vpcs()
    except botocore.exceptions.ClientError as e:
        assert e.response['ResponseMetadata']['HTTPStatusCode'] == 503
    else:
        pytest.fail('the empty bucket answered')


def test_refill_at_the_scaled_rate(emulator):
    # DescribeLogGroups: 10 a burst at 10/s; scaled x0.5: 5/s
    emulator.control('config', {'rate_limits': True, 'rate_scale': 0.5})
    logs = emulator.client('logs')
    ok, refused = burst_then_refused(lambda: logs.describe_log_groups(), 11)
    assert (ok, len(refused)) == (10, 1)
    time.sleep(0.5)          # 2.5 tokens at 5/s
    ok, refused = burst_then_refused(lambda: logs.describe_log_groups(), 3)
    assert (ok, refused) == (2, ['ThrottlingException'])


def test_buckets_are_per_account(emulator):
    emulator.control('config', {'rate_limits': {'logs': {
        'per_api': True, 'read': [2, 0.001], 'mutating': [2, 0.001]}},
        'credentials': {'test': {'secret': 'test', 'account': '123456789012'},
                        'other': {'secret': 'other', 'account': '210987654321'}}})
    a = emulator.client('logs')
    b = emulator.client('logs', access_key='other', secret_key='other')
    assert burst_then_refused(lambda: a.describe_log_groups(), 3)[0] == 2
    assert burst_then_refused(lambda: b.describe_log_groups(), 3)[0] == 2
    # and per Region
    c = emulator.client('logs', region='eu-west-1')
    assert burst_then_refused(lambda: c.describe_log_groups(), 3)[0] == 2


def test_reset_refills_and_clears_the_counter(emulator):
    emulator.control('config', {'rate_limits': {'logs': {
        'per_api': True, 'read': [1, 0.001], 'mutating': [1, 0.001]}}})
    logs = emulator.client('logs')
    assert burst_then_refused(lambda: logs.describe_log_groups(), 2)[0] == 1
    assert emulator.control('throttled') == {'logs:DescribeLogGroups': 1}
    emulator.reset()
    assert emulator.control('throttled') == {}
    assert burst_then_refused(lambda: logs.describe_log_groups(), 1)[0] == 1
