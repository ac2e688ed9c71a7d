"""HTTP front: routing, authentication, fault injection, dispatch to handlers.

One ThreadingHTTPServer speaking HTTP/1.1 with keep-alive. Handlers run under
the State's global lock.
"""
import importlib
import json
import os
import pkgutil
import socket
import sys
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import controls, protocols, sigv4
from .core import AwsError, Ctx, lookup

# Operations AWS accepts unsigned (botocore disables signing for them in
# handlers.py rather than in this model version).
_UNSIGNED_OPS = {('sts', 'AssumeRoleWithWebIdentity'), ('sts', 'AssumeRoleWithSAML')}

# Operations that never change state: no save after them.
_READ_PREFIXES = ('Describe', 'List', 'Get', 'Head')


def load_services():
    """{service: module} for every emu/services/*.py that imports cleanly."""
    from . import services
    mods = {}
    for info in pkgutil.iter_modules(services.__path__):
        try:
            mods[info.name] = importlib.import_module(f'{services.__name__}.{info.name}')
        except Exception:   # one broken service must not take the others down
            sys.stderr.write(f'emulator: service {info.name} failed to load:\n')
            traceback.print_exc()
    return mods


class Emulator:
    def __init__(self, state):
        self.state = state
        self.services = load_services()

    def handlers(self, service):
        mod = self.services.get(service)
        return getattr(mod, 'HANDLERS', {}) if mod else {}

    def inventory(self):
        out = []
        with self.state.lock:
            for name, mod in sorted(self.services.items()):
                fn = getattr(mod, 'inventory', None)
                if fn is None:
                    continue
                try:
                    out.extend(fn(self.state.stores.setdefault(name, {})))
                except Exception:
                    traceback.print_exc()
                    out.append({'service': name, 'type': 'error',
                                'id': 'inventory() failed'})
        return out


class _Request:
    """The pieces of an HTTP request the dispatcher needs."""

    def __init__(self, method, raw_path, query, headers, body):
        self.method = method
        self.raw_path = raw_path
        self.query = query
        self.headers = headers
        self.body = body


def new_request_id(protocol):
    if protocol == 'rest-xml':
        return uuid.uuid4().hex[:16].upper()
    return str(uuid.uuid4())


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True   # else small keep-alive answers wait ~40 ms for an ACK
    server_version = 'AmazonEmulator'
    sys_version = ''

    def version_string(self):
        return 'AmazonEmulator'

    def date_time_string(self, timestamp=None):
        # the Date header tells clients the server's clock (skew correction)
        if timestamp is None and self.emulator is not None:
            timestamp = sigv4.server_time(self.emulator.state)
        return super().date_time_string(timestamp)
    emulator = None   # set by make_server

    def log_message(self, fmt, *args):
        if os.environ.get('EMULATOR_VERBOSE'):
            sys.stderr.write('%s - %s\n' % (self.address_string(), fmt % args))

    def parse_request(self):
        # when the request line came in: rate_limits takes its token at this
        # instant, not after the queueing that follows under load
        self.arrival = time.monotonic()
        return super().parse_request()

    def _read_body(self):
        te = self.headers.get('Transfer-Encoding', '')
        if te.lower() == 'chunked':
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b''.join(chunks)
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def _send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if 'Content-Length' not in headers:
            self.send_header('Content-Length', str(len(body)))
        # headers and body in one write
        self._headers_buffer.append(b'\r\n')
        if self.command != 'HEAD' and body:
            self._headers_buffer.append(body)
        self.flush_headers()

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _any(self):
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        parts = urlsplit(self.path)
        req = _Request(self.command, parts.path, parts.query, self.headers, body)
        req.arrival = getattr(self, 'arrival', None)
        local = None
        if parts.path.startswith('/latest/') and 'Authorization' not in self.headers:
            local = controls.handle_imds
        elif parts.path.startswith('/_emulator/'):
            local = controls.handle
        elif 'sso' in self.emulator.services and \
                self.emulator.services['sso'].claims(req):
            local = self.emulator.services['sso'].handle   # unsigned REST-JSON
        if local is not None:
            try:
                status, headers, out = local(self.emulator, req)
            except Exception as e:
                traceback.print_exc()
                status, headers, out = json_response(500, {'error': f'{type(e).__name__}: {e}'})
            self._send(status, headers, out)
            return
        result = dispatch(self.emulator, req)
        if result is None:
            self._drop()
            return
        self._send(*result)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any


def _route(req):
    """-> (service, protocol) from the credential scope, X-Amz-Target or Version."""
    service = sigv4.scope_service(req.headers)
    if service in protocols.SERVICES:
        return service, protocols.protocol_of(service)
    target = req.headers.get('X-Amz-Target')
    if target:
        prefix = target.split('.', 1)[0]
        if prefix in protocols.TARGET_PREFIX:
            return protocols.TARGET_PREFIX[prefix], 'json'
    ctype = req.headers.get('Content-Type', '')
    if req.method in ('POST', 'GET') and (ctype.startswith('application/x-www-form-urlencoded')
                                          or 'Action=' in req.query):
        flat = _form(req)
        svc = protocols.QUERY_VERSION.get(flat.get('Version', ''))
        if svc:
            return svc, protocols.protocol_of(svc)
    if service is not None:
        return None, None
    return 's3', 'rest-xml'


def _form(req):
    flat = dict(parse_qsl(req.query, keep_blank_values=True))
    if req.body and req.headers.get('Content-Type', '').startswith(
            'application/x-www-form-urlencoded'):
        flat.update(parse_qsl(req.body.decode('utf-8', 'replace'), keep_blank_values=True))
    return flat


def _rate(setting, service, op):
    return lookup(setting, service, op)


def _caller_scope(state, headers):
    """(account, region) of a signed request's access key, before the
    signature is checked; (None, None) when unsigned or unknown."""
    try:
        ak, _, region, _, _, _ = sigv4.parse_authorization(headers.get('Authorization'))
    except sigv4.AuthError:
        return None, None
    c = state.config.get('credentials', {}).get(ak)
    if c is not None:
        return c.get('account', '123456789012'), region
    temp = state.stores.get('sts', {}).get('sessions', {}).get(ak)
    return (temp['Account'], region) if temp else (None, None)


def _throttling(protocol):
    """The protocol's throttling error (EC2 RequestLimitExceeded 503, Query
    Throttling 400, JSON ThrottlingException 400, S3 SlowDown 503)."""
    return {'ec2': AwsError('RequestLimitExceeded', 'Request limit exceeded.', status=503),
            'query': AwsError('Throttling', 'Rate exceeded', status=400),
            'json': AwsError('ThrottlingException', 'Rate exceeded', status=400),
            'rest-xml': AwsError('SlowDown', 'Please reduce your request rate.',
                                 status=503)}[protocol]


def dispatch(emu, req):
    """-> (status, headers, body), or None to drop the connection."""
    state = emu.state
    service, protocol = _route(req)
    if service is None:
        err = AwsError('UnknownService', 'the emulator does not serve this service')
        return protocols.render_error('json', err, str(uuid.uuid4()))
    request_id = new_request_id(protocol)
    head = req.method == 'HEAD'
    sm = protocols.service_model(service)
    try:
        # 1. which operation
        if protocol == 'json':
            target = req.headers.get('X-Amz-Target', '')
            prefix, _, op_name = target.partition('.')
            if prefix != sm.metadata.get('targetPrefix') or op_name not in sm.operation_names:
                raise AwsError('UnknownOperationException', f'Unknown operation {target}')
            flat = None
        elif protocol in ('query', 'ec2'):
            flat = _form(req)
            op_name = flat.pop('Action', None)
            flat.pop('Version', None)
            if not op_name:
                raise AwsError('MissingAction', 'The request must contain the parameter '
                                                'Action')
            if op_name not in sm.operation_names:
                raise AwsError('InvalidAction', f'The action {op_name} is not valid for '
                                                f'this web service.')
        else:
            query = dict(parse_qsl(req.query, keep_blank_values=True))
            path = req.raw_path
            host = (req.headers.get('Host') or '').rsplit(':', 1)[0]
            if host.endswith('.localhost'):   # virtual-hosted style: bucket.localhost
                path = '/' + host[:-len('.localhost')] + path
            else:   # AWS's own host names (tests send them in Host): emu/services/s3.py
                from .services.s3 import vhost_bucket
                vb = vhost_bucket(host)
                if vb:
                    path = '/' + vb + (path if path != '/' else '')
            op, labels = protocols.match_rest(service, req.method, path, query, req.headers)
            if op is None:
                raise AwsError('MethodNotAllowed', 'The specified method is not allowed '
                                                   'against this resource.', status=405)
            op_name = op.name
        op = sm.operation_model(op_name)
        state.count(service, op_name)
        # AWS's token buckets (rate_limits), taken as early as the request is
        # known, so the time it spends here later does not move its arrival
        limited = False
        if state.config.get('rate_limits'):
            acct, region = _caller_scope(state, req.headers)
            limited = acct is not None and not state.limiter.take(
                state.config, acct, region, service, op_name,
                now=getattr(req, 'arrival', None))

        # 2. who is calling
        ident = None
        if (op.auth_type == 'none' or (service, op_name) in _UNSIGNED_OPS) and \
                not req.headers.get('Authorization'):
            ident = {'access_key': None, 'account': None, 'arn': None, 'user_id': None,
                     'session': None, 'region': 'us-east-1'}
        else:
            try:
                with state.lock:
                    ident = sigv4.verify(state, req.method, req.raw_path, req.query,
                                         req.headers, req.body)
            except sigv4.AuthError as e:
                raise sigv4.auth_error_to_aws(protocol, e)

        # 3. faults
        cfg = state.config
        with state.lock:
            r_drop = state.fault_rng.random()
            r_thr = state.fault_rng.random()
            r_err = state.fault_rng.random()
            r_after = state.fault_rng.random()
        if r_drop < _rate(cfg.get('drop_rate'), service, op_name):
            return None
        lat = _rate(cfg.get('latency') or {}, service, op_name)
        if lat > 0:
            time.sleep(lat)
        if limited:
            state.count_throttled(service, op_name)
            raise _throttling(protocol)
        if r_thr < _rate(cfg.get('throttle_rate'), service, op_name):
            raise _throttling(protocol)
        if r_err < _rate(cfg.get('error_rate'), service, op_name):
            if r_err < _rate(cfg.get('error_rate'), service, op_name) / 2:
                raise AwsError('InternalError' if protocol != 'json' else 'InternalFailure',
                               'We encountered an internal error. Please try again.',
                               status=500, sender=False)
            raise AwsError('ServiceUnavailable', 'Service is unavailable. Please try again.',
                           status=503, sender=False)

        # 4. parameters
        try:
            if protocol == 'json':
                params = protocols.parse_json_params(op.input_shape, req.body)
            elif protocol in ('query', 'ec2'):
                params = protocols.parse_query_params(protocol, op.input_shape, flat)
            else:
                params = protocols.parse_rest_params(op, labels, query, req.headers, req.body)
        except protocols.ParamError as e:
            raise protocols.param_error_to_aws(protocol, e, service)

        # 5. the handler
        fn = emu.handlers(service).get(op_name)
        if fn is None:
            if protocol == 'json':
                raise AwsError('UnknownOperationException',
                               f'the emulator does not implement {op_name}')
            if protocol == 'rest-xml':
                raise AwsError('NotImplemented', f'the emulator does not implement '
                                                 f'{op_name}', status=501)
            raise AwsError('InvalidAction', f'the emulator does not implement {op_name}')
        ctx = Ctx(state, service, region=ident.get('region') or 'us-east-1',
                  account=ident.get('account') or '123456789012', caller=ident,
                  access_key=ident.get('access_key'), request_id=request_id,
                  operation=op_name)
        ctx.http = {'headers': req.headers, 'body': req.body, 'method': req.method,
                    'query': req.query, 'path': req.raw_path}
        with state.lock:
            result = fn(ctx, params)
            if not op_name.startswith(_READ_PREFIXES):
                state.dirty = True      # the saver thread writes it (with --state-dir)
        if r_after < _rate(cfg.get('drop_after_rate'), service, op_name):
            return None     # applied, but the answer is lost (tests idempotency)
        # 6. the answer
        if protocol == 'ec2':
            return protocols.render_ec2(op, result, request_id)
        if protocol == 'query':
            return protocols.render_query(op, result, request_id)
        if protocol == 'json':
            return protocols.render_json(op, result, request_id)
        return protocols.render_rest_xml(op, result, request_id, head=head)
    except AwsError as e:
        return protocols.render_error(protocol, e, request_id, service, head=head)
    except Exception:
        traceback.print_exc()
        err = AwsError('InternalError' if protocol != 'json' else 'InternalFailure',
                       'the emulator failed on this request (see its stderr)', status=500,
                       sender=False)
        return protocols.render_error(protocol, err, request_id, service, head=head)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def make_server(state, port=0):
    emu = Emulator(state)
    handler = type('BoundHandler', (Handler,), {'emulator': emu})
    srv = Server(('127.0.0.1', port), handler)
    srv.emulator = emu
    return srv


def json_response(status, obj):
    return status, {'Content-Type': 'application/json'}, json.dumps(obj, indent=1).encode()
