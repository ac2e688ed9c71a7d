"""IMDSv2 and ECS container credential endpoints, read by botocore's own
credential providers (an independent client), and the credentials they hand
out accepted by the emulator's services."""
import urllib.error
import urllib.request

import pytest
from botocore.credentials import ContainerProvider, InstanceMetadataProvider
from botocore.utils import InstanceMetadataFetcher


def _use(emulator, creds):
    f = creds.get_frozen_credentials()
    return emulator.client('sts', access_key=f.access_key, secret_key=f.secret_key,
                           token=f.token).get_caller_identity()


def test_imdsv2_credentials(emulator):
    fetcher = InstanceMetadataFetcher(timeout=2, num_attempts=1, base_url=emulator.url)
    creds = InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
    assert creds is not None and creds.method == 'iam-role'
    ident = _use(emulator, creds)
    assert ident['Arn'] == ('arn:aws:sts::123456789012:assumed-role/emulator-instance-role/'
                            'i-0123456789abcdef0')


def test_imdsv2_requires_token(emulator):
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(emulator.url + '/latest/meta-data/iam/security-credentials/',
                               timeout=5)
    assert e.value.code == 401
    req = urllib.request.Request(emulator.url + '/latest/api/token', method='PUT')
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)          # no TTL header
    assert e.value.code == 400


def test_container_credentials(emulator):
    emulator.control('config', {'container_token': 'Bearer t0k3n'})
    try:
        env = {'AWS_CONTAINER_CREDENTIALS_FULL_URI':
               emulator.url + '/_emulator/container-credentials',
               'AWS_CONTAINER_AUTHORIZATION_TOKEN': 'Bearer t0k3n'}
        creds = ContainerProvider(environ=env).load()
        assert _use(emulator, creds)['Arn'].startswith(
            'arn:aws:sts::123456789012:assumed-role/emulator-task-role/')
        req = urllib.request.Request(env['AWS_CONTAINER_CREDENTIALS_FULL_URI'],
                                     headers={'Authorization': 'Bearer wrong'})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=5)
        assert e.value.code == 401
    finally:
        emulator.control('config', {'container_token': None})


def test_short_instance_credentials(emulator):
    """A lifetime below AssumeRole's 900 s minimum is a test knob, not an
    AssumeRole call: the endpoint hands it out (it used to answer 500). Read
    raw: botocore stretches an expiry under 15 minutes on its own."""
    import calendar
    import json
    import time
    emulator.control('config', {'instance_credentials_seconds': 120})
    try:
        req = urllib.request.Request(emulator.url + '/latest/api/token', method='PUT',
                                     headers={'X-aws-ec2-metadata-token-ttl-seconds': '60'})
        token = urllib.request.urlopen(req, timeout=5).read().decode()
        base = emulator.url + '/latest/meta-data/iam/security-credentials/'
        hdr = {'X-aws-ec2-metadata-token': token}
        role = urllib.request.urlopen(urllib.request.Request(base, headers=hdr),
                                      timeout=5).read().decode().strip()
        doc = json.loads(urllib.request.urlopen(urllib.request.Request(base + role, headers=hdr),
                                                timeout=5).read())
        left = calendar.timegm(time.strptime(doc['Expiration'], '%Y-%m-%dT%H:%M:%SZ')) - time.time()
        assert 0 < left <= 125
        ident = emulator.client('sts', access_key=doc['AccessKeyId'],
                                secret_key=doc['SecretAccessKey'],
                                token=doc['Token']).get_caller_identity()
        assert ident['Arn'].endswith('/i-0123456789abcdef0')
    finally:
        emulator.control('config', {'instance_credentials_seconds': None})
