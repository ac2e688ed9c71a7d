"""cairn's endpoint resolution against botocore's own resolver
(botocore.regions.EndpointResolver) on the same data
(data/endpoints/endpoints.json): for every service cairn calls, regions of
every partition plus unlisted ones, with and without FIPS and dual-stack,
the hostname and the signing region must be botocore's. Where botocore
refuses (no such variant), cairn must refuse too.

Two client-level choices sit above botocore's resolver, as in botocore's
client: S3 in us-east-1 uses the global endpoint ("legacy" mode), and a
region no partition knows is resolved in the aws partition (botocore's
resolver with partition_name="aws")."""
import json
import os
import subprocess

import pytest
from botocore import regions
from botocore.exceptions import EndpointVariantError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, 'data', 'endpoints', 'endpoints.json')
PREFIXES = ['ec2', 'ecs', 'api.ecr', 'iam', 'secretsmanager', 'logs', 'sts', 's3',
            'portal.sso', 'oidc', 'cloudcontrolapi', 'cloudformation']


def driver():
    build = os.environ.get('CAIRN_BUILD')
    if not build and os.environ.get('CAIRN'):
        build = os.path.dirname(os.environ['CAIRN'])
    path = os.path.join(build or os.path.join(ROOT, 'build'), 'tests', 'unit', 'aws',
                        'aws_ser_driver')
    if not os.path.exists(path):
        pytest.fail(f'driver not built: {path}')
    return path


def cases():
    data = json.load(open(DATA))
    out = []
    for p in data['partitions']:
        regs = sorted(p['regions'])
        for prefix in PREFIXES:
            for region in regs:
                for fips in (False, True):
                    for dual in (False, True):
                        out.append((prefix, region, fips, dual))
    for prefix in PREFIXES:
        out.append((prefix, 'mars-west-1', False, False))
        if prefix in ('iam',):
            out.append((prefix, None, False, False))
    return data, out


DATA_JSON, CASES = cases()


def expected(resolver, prefix, region, fips, dual):
    name = region
    kw = {}
    if region == 'mars-west-1':
        kw['partition_name'] = 'aws'    # unknown region: the aws partition, forced
    if prefix == 's3' and region == 'us-east-1' and not fips and not dual:
        name = 'aws-global'
    try:
        r = resolver.construct_endpoint(prefix, name, use_dualstack_endpoint=dual,
                                        use_fips_endpoint=fips, **kw)
    except EndpointVariantError:
        return 'ERROR'
    if r is None:
        return 'ERROR'
    sign = (r.get('credentialScope') or {}).get('region') or r['endpointName']
    return f"{r['hostname']} {sign}"


def test_enough_cases():
    assert len(CASES) > 500
    assert {c[1] for c in CASES} >= {'us-east-1', 'cn-north-1', 'us-gov-west-1',
                                     'us-iso-east-1', 'us-isob-east-1'}


def test_endpoints_match_botocore():
    resolver = regions.EndpointResolver(DATA_JSON)
    inp = ''.join(json.dumps({'resolve': p, 'region': r, 'fips': f, 'dualstack': d}) + '\n'
                  for p, r, f, d in CASES)
    out = subprocess.run([driver()], input=inp.encode(), capture_output=True,
                         timeout=120).stdout.decode().split('\n')
    bad = []
    for i, (p, r, f, d) in enumerate(CASES):
        got = out[i]
        want = expected(resolver, p, r, f, d)
        if want == 'ERROR':
            ok = got.startswith('ERROR')
        else:
            ok = got == want
        if not ok:
            bad.append((p, r, f, d, want, got))
    assert not bad, f'{len(bad)} of {len(CASES)} differ; first: {bad[:5]}'


@pytest.mark.parametrize('prefix,region,host,sign', [
    ('iam', 'us-east-2', 'iam.amazonaws.com', 'us-east-1'),
    ('iam', 'cn-north-1', 'iam.cn-north-1.amazonaws.com.cn', 'cn-north-1'),
    ('iam', 'us-gov-east-1', 'iam.us-gov.amazonaws.com', 'us-gov-west-1'),
    ('sts', 'ap-southeast-2', 'sts.ap-southeast-2.amazonaws.com', 'ap-southeast-2'),
    ('s3', 'us-east-1', 's3.amazonaws.com', 'us-east-1'),
])
def test_issue_examples(prefix, region, host, sign):
    out = subprocess.run([driver()], input=(json.dumps({'resolve': prefix, 'region': region})
                                            + '\n').encode(),
                         capture_output=True, timeout=30).stdout.decode().strip()
    assert out == f'{host} {sign}'
