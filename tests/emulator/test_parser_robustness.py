"""Malformed input never crashes the parsers: every failure is a ParamError
(rendered as the protocol's validation error) or an AwsError, never another
exception (which would become a 500)."""
import json
import random

import pytest

from emu import protocols
from emu.core import AwsError

JUNK_KEYS = ['', '.', '..', 'A.', '.B', 'X.1', 'Tag.0.Key', 'Filter.-1.Name', 'member',
             'Tags.member.x.Key', 'a' * 300, 'Ünïcode', 'entry.1.key']
JUNK_VALUES = ['', 'x', '-1', '1e309', 'true', 'nan', '2026-13-45T99:99:99Z', '%zz',
               '\x00', 'A' * 5000, '[]', '{}']


def _mutations(rng, flat):
    flat = dict(flat)
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        keys = list(flat)
        if r < 0.3 and keys:
            flat[rng.choice(keys)] = rng.choice(JUNK_VALUES)
        elif r < 0.5 and keys:
            k = rng.choice(keys)
            flat[k + rng.choice(['.1', '.member', '.x', '.1.Key'])] = flat.pop(k)
        elif r < 0.7 and keys:
            del flat[rng.choice(keys)]
        else:
            flat[rng.choice(JUNK_KEYS)] = rng.choice(JUNK_VALUES)
    return flat


def _sample_flat(op, proto):
    from botocore.serialize import create_serializer
    from test_roundtrip import sample
    params = sample(op.input_shape) or {}
    body = create_serializer(proto, include_validation=False).serialize_to_request(
        params, op)['body']
    if proto == 'json':
        return body
    flat = {k: str(v) for k, v in dict(body).items()}
    flat.pop('Action', None)
    flat.pop('Version', None)
    return flat


@pytest.mark.parametrize('svc', ['ec2', 'iam', 'sts'])
def test_query_parsers_never_crash(svc):
    rng = random.Random(svc)
    sm = protocols.service_model(svc)
    proto = sm.metadata['protocol']
    names = [n for n in sm.operation_names if sm.operation_model(n).input_shape is not None]
    for name in rng.sample(names, min(60, len(names))):
        op = sm.operation_model(name)
        base = _sample_flat(op, proto)
        for _ in range(15):
            try:
                protocols.parse_query_params(proto, op.input_shape, _mutations(rng, base))
            except (protocols.ParamError, AwsError):
                pass


JSON_JUNK = [None, 0, -1, 1.5, True, '', 'x', [], {}, [None], {'': 1}, 'A' * 3000, 10 ** 30]


def _mutate_json(rng, v, depth=0):
    if isinstance(v, dict) and v and rng.random() < 0.7 and depth < 6:
        v = dict(v)
        k = rng.choice(list(v))
        if rng.random() < 0.5:
            v[k] = _mutate_json(rng, v[k], depth + 1)
        else:
            v[k] = rng.choice(JSON_JUNK)
        return v
    if isinstance(v, list) and v and rng.random() < 0.7 and depth < 6:
        return [_mutate_json(rng, v[0], depth + 1)] + v[1:]
    return rng.choice(JSON_JUNK)


@pytest.mark.parametrize('svc', ['logs', 'secretsmanager', 'ecs', 'ecr'])
def test_json_parser_never_crashes(svc):
    rng = random.Random(svc)
    sm = protocols.service_model(svc)
    for name in sm.operation_names:
        op = sm.operation_model(name)
        if op.input_shape is None:
            continue
        base = json.loads(_sample_flat(op, 'json') or b'{}')
        for _ in range(10):
            body = json.dumps(_mutate_json(rng, base)).encode()
            try:
                protocols.parse_json_params(op.input_shape, body)
            except (protocols.ParamError, AwsError):
                pass
        for raw in (b'', b'{', b'[]', b'null', b'\xff\xfe', b'{"a":1}' * 3):
            try:
                protocols.parse_json_params(op.input_shape, raw)
            except (protocols.ParamError, AwsError):
                pass


def test_rest_parser_never_crashes():
    rng = random.Random(3)
    sm = protocols.service_model('s3')
    paths = ['/', '/b', '/b/', '/b/k', '/b/%ZZ', '/b/a/b/c', '//', '/b?x']
    for _ in range(300):
        method = rng.choice(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])
        path = rng.choice(paths)
        query = rng.choice([{}, {'list-type': '2'}, {'max-keys': 'x'}, {'tagging': ''},
                            {'uploads': ''}, {'versioning': ''}, {'delete': ''}])
        headers = rng.choice([{}, {'x-amz-copy-source': 'b/k'}, {'Range': 'bytes=x-y'},
                              {'If-Modified-Since': 'garbage'}, {'Content-Length': '-1'}])
        body = rng.choice([b'', b'<x', b'<Delete><Object/></Delete>', b'\x00' * 10])
        op, labels = protocols.match_rest('s3', method, path, query, headers)
        if op is None:
            continue
        assert sm.operation_model(op.name) is not None
        try:
            protocols.parse_rest_params(op, labels, query, headers, body)
        except (protocols.ParamError, AwsError):
            pass
