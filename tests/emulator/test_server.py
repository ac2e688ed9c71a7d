"""HTTP-level behaviour: chunked bodies, Expect: 100-continue, GET query
requests, concurrency, unknown services, garbage input, shutdown with open
connections."""
import hashlib
import json
import signal
import socket
import threading

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from conftest import Emulator


def signed_headers(emulator, service, method, path, body, headers):
    req = botocore.awsrequest.AWSRequest(method=method, url=emulator.url + path, data=body,
                                         headers=dict(headers))
    cls = botocore.auth.S3SigV4Auth if service == 's3' else botocore.auth.SigV4Auth
    cls(botocore.credentials.Credentials('test', 'test'), service, 'us-east-1').add_auth(req)
    out = dict(req.headers.items())
    out['Host'] = f'127.0.0.1:{emulator.port}'      # signed by botocore, sent by urllib3
    return out


def send_raw(port, data, read_until_close=False):
    s = socket.create_connection(('127.0.0.1', port), timeout=5)
    try:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            chunks.append(b)
            if not read_until_close and b'\r\n\r\n' in b''.join(chunks):
                head, _, rest = b''.join(chunks).partition(b'\r\n\r\n')
                length = [int(line.split(b':')[1]) for line in head.split(b'\r\n')
                          if line.lower().startswith(b'content-length:')]
                if length and len(rest) >= length[0]:
                    break
        return b''.join(chunks)
    finally:
        s.close()


def test_chunked_upload(emulator):
    emulator.client('s3').create_bucket(Bucket='chunky')
    body = b'0123456789' * 50
    path = '/chunky/obj'
    h = signed_headers(emulator, 's3', 'PUT', path, body, {})
    h.pop('Content-Length', None)
    h['Transfer-Encoding'] = 'chunked'
    head = ''.join(f'{k}: {v}\r\n' for k, v in h.items())
    chunks = b''
    for i in range(0, len(body), 128):
        part = body[i:i + 128]
        chunks += f'{len(part):x}\r\n'.encode() + part + b'\r\n'
    chunks += b'0\r\n\r\n'
    resp = send_raw(emulator.port, f'PUT {path} HTTP/1.1\r\n{head}\r\n'.encode() + chunks)
    assert resp.startswith(b'HTTP/1.1 200'), resp[:300]
    got = emulator.client('s3').get_object(Bucket='chunky', Key='obj')
    assert got['Body'].read() == body
    assert got['ETag'] == '"%s"' % hashlib.md5(body).hexdigest()


def test_expect_100_continue(emulator):
    body = b'Action=GetCallerIdentity&Version=2011-06-15'
    h = signed_headers(emulator, 'sts', 'POST', '/', body,
                       {'Content-Type': 'application/x-www-form-urlencoded'})
    h['Expect'] = '100-continue'
    h['Content-Length'] = str(len(body))
    head = ''.join(f'{k}: {v}\r\n' for k, v in h.items())
    s = socket.create_connection(('127.0.0.1', emulator.port), timeout=5)
    try:
        s.sendall(f'POST / HTTP/1.1\r\n{head}\r\n'.encode())
        first = s.recv(4096)
        assert first.startswith(b'HTTP/1.1 100'), first
        s.sendall(body)
        rest = b''
        while b'</GetCallerIdentityResponse>' not in rest:
            b = s.recv(65536)
            if not b:
                break
            rest += b
        assert b' 200 ' in rest.split(b'\r\n', 1)[0] or b'HTTP/1.1 200' in rest, rest[:200]
    finally:
        s.close()


def test_query_over_get(emulator):
    path = '/?Action=GetCallerIdentity&Version=2011-06-15'
    h = signed_headers(emulator, 'sts', 'GET', path, b'', {})
    head = ''.join(f'{k}: {v}\r\n' for k, v in h.items())
    resp = send_raw(emulator.port, f'GET {path} HTTP/1.1\r\n{head}\r\n'.encode())
    assert resp.startswith(b'HTTP/1.1 200') and b'<Account>123456789012</Account>' in resp


def test_unknown_service_scope(emulator):
    st, _, body = emulator.raw('kinesis', body=b'{}', headers={
        'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Kinesis_20131202.ListStreams'})
    assert st == 400 and json.loads(body)['__type'] == 'UnknownService'


def test_garbage_request_line(emulator):
    resp = send_raw(emulator.port, b'NONSENSE\r\n\r\n', read_until_close=True)
    assert b'400' in resp
    # the server is still up
    assert emulator.client('sts').get_caller_identity()['Account'] == '123456789012'


def test_concurrent_writers(emulator):
    logs = [emulator.client('logs', region='us-east-1', connect_timeout=5 + i)
            for i in range(6)]
    errors = []

    def work(i):
        try:
            for j in range(15):
                logs[i].create_log_group(logGroupName=f'/c/{i}/{j}')
        except Exception as e:   # surfaced through the assertion below
            errors.append(e)
    ts = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    inv = [x for x in emulator.control('inventory') if x['service'] == 'logs']
    assert len(inv) == 90
    assert emulator.control('calls')['logs:CreateLogGroup'] == 90


def test_sigterm_with_open_keepalive_connection():
    emu = Emulator()
    try:
        emu.client('sts').get_caller_identity()          # leaves a pooled connection open
        s = socket.create_connection(('127.0.0.1', emu.port), timeout=5)
        emu.proc.send_signal(signal.SIGTERM)
        assert emu.proc.wait(10) == 0
        s.close()
    finally:
        emu.stop()
