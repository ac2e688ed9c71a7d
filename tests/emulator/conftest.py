"""Shared fixtures for the emulator's tests.

emulator   (module scope) a running `run --port 0`; .url, .client(service, **kw),
           .control(path, body=None, method=None), .reset(), .stop(),
           .raw(...) a hand-made (optionally SigV4-signed) HTTP request
aws        aws(*args, env=None, check=True): one Debian /usr/bin/aws process;
           returns CompletedProcess with .json (parsed stdout or None)
aws_batch  aws_batch([[args...], ...]): many /usr/bin/aws command lines in ONE
           process (see awsbatch.py); returns [{'rc','stdout','stderr','json'}]
"""
import datetime
import http.client
import json
import os
import subprocess
import sys
import urllib.request
from urllib.parse import urlencode

import botocore.auth
import botocore.awsrequest
import botocore.credentials

import botocore.config
import botocore.session
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, 'run')

_session = botocore.session.get_session()


class Emulator:
    def __init__(self, args=()):
        self.proc = subprocess.Popen([sys.executable if sys.executable.startswith('/usr/bin')
                                      else '/usr/bin/python3', RUN, '--port', '0', *args],
                                     stdout=subprocess.PIPE, stderr=None, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith('listening on '):
            self.proc.kill()
            raise RuntimeError(f'emulator did not start: {line!r}')
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(':', 1)[1])
        self._clients = {}

    def client(self, service, access_key='test', secret_key='test', token=None,
               region='us-east-1', **config):
        key = (service, access_key, secret_key, token, region, tuple(sorted(config.items())))
        c = self._clients.get(key)
        if c is None:
            cfg = botocore.config.Config(retries={'total_max_attempts': 1, 'mode': 'standard'},
                                         **config)
            c = _session.create_client(service, region_name=region, endpoint_url=self.url,
                                       aws_access_key_id=access_key,
                                       aws_secret_access_key=secret_key,
                                       aws_session_token=token, config=cfg)
            self._clients[key] = c
        return c

    def control(self, path, body=None, method=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f'{self.url}/_emulator/{path.lstrip("/")}', data=data,
                                     method=method or ('POST' if data is not None else 'GET'))
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b'null')

    def reset(self):
        return self.control('reset', {})

    def raw(self, service=None, method='POST', path='/', body=b'', headers=None,
            params=None, access_key='test', secret_key='test', token=None, region='us-east-1',
            when=None, sign=True, auth_cls=None, send_body=None):
        """Sends one request by hand. params (dict) becomes a form body.
        when: a datetime to sign with (default now); send_body: bytes sent instead of
        the signed body (tampering). Returns (status, headers, body)."""
        headers = dict(headers or {})
        if params is not None:
            body = urlencode(params).encode()
            headers.setdefault('Content-Type',
                               'application/x-www-form-urlencoded; charset=utf-8')
        if isinstance(body, str):
            body = body.encode()
        url = self.url + path
        if sign:
            req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                                 headers=headers)
            creds = botocore.credentials.Credentials(access_key, secret_key, token)
            cls = auth_cls or (botocore.auth.S3SigV4Auth if service == 's3'
                               else botocore.auth.SigV4Auth)
            signer = cls(creds, service, region)
            if when is None:
                signer.add_auth(req)
            else:
                real = datetime.datetime

                class _Fixed(real):
                    @classmethod
                    def utcnow(cls):
                        return when
                botocore.auth.datetime.datetime = _Fixed
                try:
                    signer.add_auth(req)
                finally:
                    botocore.auth.datetime.datetime = real
            headers = dict(req.headers.items())
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        try:
            if send_body is not None:
                body = send_body
                headers['Content-Length'] = str(len(body))
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(scope='module')
def emulator():
    emu = Emulator()
    yield emu
    emu.stop()


@pytest.fixture(autouse=True)
def _reset_between_tests(request):
    if 'emulator' in request.fixturenames:
        emu = request.getfixturevalue('emulator')
        emu.control('config', {'throttle_rate': 0, 'error_rate': 0, 'drop_rate': 0,
                               'drop_after_rate': 0,
                               'latency': {}, 'iam_propagation_seconds': 0,
                               'clock_offset': 0, 'page_size': 0,
                               'visibility_delay': {}, 'ec2_visibility_delay': 0,
                               'ecs_slr_error_seconds': 0, 'seed_account': False,
                               'server_clock_offset': 0,
                               'visibility_exempt_user_agents': [],
                               'quotas': {}, 'rate_limits': False, 'rate_scale': 1.0})
        emu.reset()
    yield


def _aws_env(tmp_path):
    return {'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path),
            'AWS_ACCESS_KEY_ID': 'test', 'AWS_SECRET_ACCESS_KEY': 'test',
            'AWS_DEFAULT_REGION': 'us-east-1', 'AWS_PAGER': '',
            'AWS_CONFIG_FILE': str(tmp_path / 'none'),
            'AWS_SHARED_CREDENTIALS_FILE': str(tmp_path / 'none'),
            'AWS_MAX_ATTEMPTS': '1'}


@pytest.fixture
def aws_batch(emulator, tmp_path):
    def run(commands, env=None):
        e = _aws_env(tmp_path)
        e.update(env or {})
        p = subprocess.run(['/usr/bin/python3', os.path.join(HERE, 'awsbatch.py')],
                           input=json.dumps({'endpoint': emulator.url, 'commands': commands}),
                           env=e, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise AssertionError(f'awsbatch failed: {p.stderr}')
        out = json.loads(p.stdout)
        for r in out:
            try:
                r['json'] = json.loads(r['stdout']) if r['stdout'].strip() else None
            except ValueError:
                r['json'] = None
        return out
    return run


@pytest.fixture
def aws(emulator, tmp_path):
    def run(*args, env=None, check=True):
        e = _aws_env(tmp_path)
        e.update(env or {})
        p = subprocess.run(['/usr/bin/aws', '--endpoint-url', emulator.url, '--output',
                            'json', *args], env=e, capture_output=True, text=True, timeout=60)
        try:
            p.json = json.loads(p.stdout) if p.stdout.strip() else None
        except ValueError:
            p.json = None
        if check and p.returncode != 0:
            raise AssertionError(f'aws {" ".join(args)} failed ({p.returncode}): {p.stderr}')
        return p
    return run
