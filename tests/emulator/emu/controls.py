"""Test controls under /_emulator/ (plain JSON over HTTP, no signature):

GET  /_emulator/health      {"ok": true}
GET  /_emulator/config      the live configuration
POST /_emulator/config      deep-merge a JSON object into it
GET  /_emulator/calls       {"service:Operation": count}
GET  /_emulator/throttled   {"service:Operation": count} refused by rate_limits (DELETE clears)
GET  /_emulator/inventory   [{"service", "type", "id"}] of every live resource
POST /_emulator/reset       forget every resource and counter (config stays)
POST /_emulator/save        write the state now (with --state-dir)
POST /_emulator/seed        pre-populate a realistic account (emu/seed.py); stays on
"""
import json


def _json(status, obj):
    return status, {'Content-Type': 'application/json'}, json.dumps(obj, indent=1).encode()


def handle(emu, req):
    state = emu.state
    path = req.raw_path[len('/_emulator/'):].strip('/')
    method = req.method
    try:
        body = json.loads(req.body or b'{}') if req.body else {}
    except ValueError:
        return _json(400, {'error': 'body is not JSON'})
    if path == 'container-credentials':
        return handle_container(emu, req)
    if path == 'health':
        return _json(200, {'ok': True})
    if path == 'config':
        if method == 'POST':
            if not isinstance(body, dict):
                return _json(400, {'error': 'config must be a JSON object'})
            state.set_config(body)
            if body.get('rate_limits'):
                # load every service model now: a model loaded by the first
                # call of its service would hold that call and release it
                # with the ones queued behind it, bunching their arrivals
                from . import protocols
                for svc in protocols.SERVICES:
                    protocols.service_model(svc)
                for svc in ('cloudcontrol', 'cloudformation', 'resourcegroupstaggingapi'):
                    try:
                        protocols.service_model(svc)
                    except Exception:
                        pass
        with state.lock:
            return _json(200, state.config)
    if path == 'calls':
        with state.lock:
            calls = dict(state.calls)
        if method == 'DELETE':
            with state.lock:
                state.calls = {}
        return _json(200, calls)
    if path == 'throttled':
        with state.lock:
            out = dict(state.throttled)
            if method == 'DELETE':
                state.throttled = {}
        return _json(200, out)
    if path == 'inventory':
        return _json(200, emu.inventory())
    if path == 'reset' and method == 'POST':
        state.reset()
        if state.state_dir:
            with state.lock:
                state.save()
        return _json(200, {'ok': True})
    if path == 'seed' and method == 'POST':
        # turn the seed on (it stays on across resets) and seed now
        from . import seed
        state.set_config({'seed_account': True})
        seed.seed_all(state)
        return _json(200, {'ok': True})
    if path == 'save' and method == 'POST':
        with state.lock:
            state.save()
        return _json(200, {'ok': True, 'state_dir': state.state_dir})
    return _json(404, {'error': f'no control {method} /_emulator/{path}'})


# --- credential endpoints used by SDK credential chains -------------------------
#
# IMDSv2 (point AWS_EC2_METADATA_SERVICE_ENDPOINT at the emulator):
#   PUT /latest/api/token  (X-aws-ec2-metadata-token-ttl-seconds: 1..21600) -> token
#   GET /latest/meta-data/iam/security-credentials/        -> role name
#   GET /latest/meta-data/iam/security-credentials/<role>  -> credentials JSON
#   (both GETs need X-aws-ec2-metadata-token; else 401)
# ECS container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI =
#   http://127.0.0.1:PORT/_emulator/container-credentials, and, when the config sets
#   container_token, AWS_CONTAINER_AUTHORIZATION_TOKEN = that value).
# Issued credentials are STS sessions: the emulator accepts them until they expire.

import secrets as _secrets
import time as _time

_imds_tokens = {}


def _plain(status, text):
    return status, {'Content-Type': 'text/plain'}, text.encode()


def _mint(emu, role, session):
    from .core import Ctx
    from .services import sts
    state = emu.state
    with state.lock:
        ctx = Ctx(state, 'sts')
        creds, _, arn = sts.mint(ctx, role, session,
                                 int(state.config.get('instance_credentials_seconds', 3600)))
        state.dirty = True
    exp = _time.strftime('%Y-%m-%dT%H:%M:%SZ', _time.gmtime(creds['Expiration']))
    return creds, arn, exp


def handle_imds(emu, req):
    path = req.raw_path
    cfg = emu.state.config
    if path == '/latest/api/token':
        if req.method != 'PUT':
            return _plain(405, 'method not allowed')
        try:
            ttl = int(req.headers.get('X-aws-ec2-metadata-token-ttl-seconds', ''))
        except ValueError:
            return _plain(400, 'missing or invalid X-aws-ec2-metadata-token-ttl-seconds')
        if not 1 <= ttl <= 21600:
            return _plain(400, 'invalid X-aws-ec2-metadata-token-ttl-seconds')
        tok = _secrets.token_urlsafe(40)
        _imds_tokens[tok] = _time.time() + ttl
        return _plain(200, tok)
    tok = req.headers.get('X-aws-ec2-metadata-token')
    if tok is None or _imds_tokens.get(tok, 0) < _time.time():
        return _plain(401, 'Unauthorized')
    role = cfg.get('instance_role', 'emulator-instance-role')
    base = '/latest/meta-data/iam/security-credentials/'
    if path == base:
        return _plain(200, role)
    if path == base + role:
        creds, _, exp = _mint(emu, role, 'i-0123456789abcdef0')
        return _json(200, {'Code': 'Success', 'Type': 'AWS-HMAC',
                           'LastUpdated': _time.strftime('%Y-%m-%dT%H:%M:%SZ', _time.gmtime()),
                           'AccessKeyId': creds['AccessKeyId'],
                           'SecretAccessKey': creds['SecretAccessKey'],
                           'Token': creds['SessionToken'], 'Expiration': exp})
    return _plain(404, 'Not Found')


def handle_container(emu, req):
    want = emu.state.config.get('container_token')
    if want and req.headers.get('Authorization') != want:
        return _json(401, {'code': 'AccessDenied', 'message': 'bad authorization token'})
    role = emu.state.config.get('container_role', 'emulator-task-role')
    creds, arn, exp = _mint(emu, role, 'ecs-task')
    return _json(200, {'AccessKeyId': creds['AccessKeyId'],
                       'SecretAccessKey': creds['SecretAccessKey'],
                       'Token': creds['SessionToken'], 'Expiration': exp, 'RoleArn': arn})
