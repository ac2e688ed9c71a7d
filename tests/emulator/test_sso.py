"""The SSO portal (GetRoleCredentials) and OIDC token refresh (CreateToken):
tokens from the config or issued by CreateToken are accepted, the role
credentials work against the other services, and expire with the
sts_credentials_seconds knob."""
import json
import time
import urllib.error
import urllib.request

import pytest


def _get(emulator, token, role='Admin', account='111122223333'):
    req = urllib.request.Request(
        f'{emulator.url}/federation/credentials?role_name={role}&account_id={account}',
        headers={'x-amz-sso_bearer_token': token} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, {'type': e.headers.get('x-amzn-ErrorType', ''), **json.loads(e.read())}


def _token(emulator, body):
    req = urllib.request.Request(f'{emulator.url}/token', data=json.dumps(body).encode(),
                                 headers={'Content-Type': 'application/json'}, method='POST')
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, {'type': e.headers.get('x-amzn-ErrorType', ''), **json.loads(e.read())}


def test_role_credentials_for_a_configured_token(emulator):
    emulator.control('config', {'sso_access_tokens': {'tok-ok': 0, 'tok-old': 1}})
    st, body = _get(emulator, 'tok-ok')
    assert st == 200
    rc = body['roleCredentials']
    assert rc['expiration'] > time.time() * 1000
    who = emulator.client('sts', access_key=rc['accessKeyId'], secret_key=rc['secretAccessKey'],
                          token=rc['sessionToken']).get_caller_identity()
    assert who['Account'] == '111122223333'
    assert '/AWSReservedSSO_Admin_' in who['Arn']
    # expired, unknown, missing: 401 UnauthorizedException
    for tok in ('tok-old', 'tok-nobody', None):
        st, body = _get(emulator, tok)
        assert st == 401 and body['type'].startswith('UnauthorizedException'), (tok, body)
    assert emulator.control('calls')['sso:GetRoleCredentials'] == 4


def test_create_token_refreshes_and_rotates(emulator):
    emulator.control('config', {'sso_refresh_tokens': {'rt-a': 'client-a'}})
    st, body = _token(emulator, {'clientId': 'client-a', 'clientSecret': 's',
                                 'grantType': 'refresh_token', 'refreshToken': 'rt-a'})
    assert st == 200 and body['tokenType'] == 'Bearer' and body['expiresIn'] > 0
    assert _get(emulator, body['accessToken'])[0] == 200
    # the old refresh token is spent, the new one works once
    st, again = _token(emulator, {'clientId': 'client-a', 'clientSecret': 's',
                                  'grantType': 'refresh_token', 'refreshToken': 'rt-a'})
    assert st == 400 and again['type'].startswith('InvalidGrantException')
    st, _ = _token(emulator, {'clientId': 'client-b', 'clientSecret': 's',
                              'grantType': 'refresh_token', 'refreshToken': body['refreshToken']})
    assert st == 400
    st, _ = _token(emulator, {'clientId': 'client-a', 'clientSecret': 's',
                              'grantType': 'refresh_token', 'refreshToken': body['refreshToken']})
    assert st == 200


def test_short_sessions_expire(emulator):
    emulator.control('config', {'sso_access_tokens': {'tok-ok': 0}, 'sts_credentials_seconds': 1})
    try:
        rc = _get(emulator, 'tok-ok')[1]['roleCredentials']
        sts = emulator.client('sts', access_key=rc['accessKeyId'],
                              secret_key=rc['secretAccessKey'], token=rc['sessionToken'])
        time.sleep(1.5)
        import botocore.exceptions
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.get_caller_identity()
        assert e.value.response['Error']['Code'] == 'ExpiredToken'
    finally:
        emulator.control('config', {'sts_credentials_seconds': None})
