"""Shared pieces of the emulator: errors, the per-request context, the global
state (stores, config, counters) and the clock.

Handlers (emu/services/<name>.py) see only AwsError and Ctx.
"""
import copy
import json
import os
import random
import re
import sys
import threading
import time
import uuid

DEFAULT_ACCOUNT = '123456789012'

DEFAULT_CONFIG = {
    # seconds added before answering, by 'service:Operation', 'Operation' or '*'
    'latency': {},
    # probability (0..1) of each fault; a number, or a map keyed like latency
    'throttle_rate': 0.0,
    'error_rate': 0.0,       # answered with 500 InternalError or 503 ServiceUnavailable
    'drop_rate': 0.0,        # the connection is closed without an answer
    'drop_after_rate': 0.0,  # the call is applied, then the connection is closed
    # AWS's request rate limits (emu/ratelimits.py): false = off, true = the
    # documented table (data/rate-limits/rate-limits.json), or a map of
    # services replacing theirs in it; rate_scale multiplies every refill rate
    'rate_limits': False,
    'rate_scale': 1.0,
    # durations of asynchronous life cycles, in seconds
    'async': {
        'nat_gateway_create': 1.0,
        'nat_gateway_delete': 1.0,
        'vpc_endpoint_create': 1.0,
        'vpc_endpoint_delete': 1.0,
        'ecs_service_drain': 1.0,
        'ecs_tasks_start': 0.5,
        'ecs_task_eni_linger': 1.0,
        'deleted_visible': 60.0,
        # a force-deleted secret's name stays taken this long (AWS purges it
        # asynchronously)
        'secret_purge': 0.5,
    },
    # a role younger than this cannot yet be passed to ECS (0 = off)
    'iam_propagation_seconds': 0.0,
    'seed': None,
    # accepted long-term credentials: access key -> {secret, account}
    'credentials': {'test': {'secret': 'test', 'account': DEFAULT_ACCOUNT}},
    # allowed clock skew of signed requests, seconds (null: AWS's, 300; S3 900)
    'max_skew_seconds': None,
    # seconds the emulator's wall clock is ahead of the host's (negative:
    # behind): the signature time check and the Date header follow it
    'server_clock_offset': 0,
    # seconds added to the emulator clock (resource times, token expiry), not to
    # the signature skew check: lets a test jump past an expiry
    'clock_offset': 0,
    # short pages: every paginated operation answers at most this many items
    # per page (a number, or a map keyed like latency; 0 = the service's own size)
    'page_size': 0,
    # eventual consistency: seconds during which a just-created resource is
    # still unknown (NotFound) to calls naming it; a number for every service,
    # or a map keyed 'service:kind', 'service' or '*' (kinds per service in
    # README.md). ec2_visibility_delay is the older EC2-only spelling.
    'visibility_delay': {},
    # User-Agent prefixes that never see visibility delays (a test's oracle:
    # e.g. ["Botocore/", "aws-cli/"] while the client under test is cairn)
    'visibility_exempt_user_agents': [],
    # ECS on a fresh account: CreateCluster/CreateService answer "Unable to
    # assume the service linked role" until AWSServiceRoleForECS is this many
    # seconds old (the first call creates it); 0 = off
    'ecs_slr_error_seconds': 0,
    # pre-populate what a real account holds (default VPC per region, managed
    # roles, common log groups); also POST /_emulator/seed
    'seed_account': False,
    # account quotas, AWS's defaults unless set here (0 = unlimited):
    # vpcs_per_region 5, internet_gateways_per_region 5, elastic_ips_per_region 5,
    # rules_per_security_group 60 (each direction), nat_gateways_per_az 5,
    # managed_policies_per_role 10
    'quotas': {},
}


class AwsError(Exception):
    """An error answered to the client in the protocol's error format."""

    def __init__(self, code, message, status=None, sender=True, headers=None):
        # status None: the HTTP status the service model gives this error code
        # (e.g. IAM NoSuchEntity 404), else 400.
        super().__init__(f'{code}: {message}')
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender
        self.headers = headers or {}


def lookup(setting, service, op=None, default=0.0):
    """A knob's value for one call: a number, or a map whose most specific key
    wins ('service:Operation', 'Operation', 'service', '*')."""
    if isinstance(setting, dict):
        keys = ([f'{service}:{op}', op] if op else []) + [service, '*']
        for k in keys:
            if k in setting:
                try:
                    return float(setting[k])
                except (TypeError, ValueError):
                    return default
        return default
    try:
        return float(setting or 0)
    except (TypeError, ValueError):
        return default


def merge_config(base, update):
    """Deep-merges update into base (dicts merge, everything else replaces)."""
    for k, v in update.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict) and k not in (
                'latency', 'throttle_rate', 'error_rate', 'drop_rate', 'drop_after_rate',
                'page_size', 'visibility_delay', 'quotas', 'rate_limits'):
            merge_config(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


class State:
    """Everything the emulator holds: one instance per server."""

    def __init__(self, state_dir=None, config=None):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        if config:
            merge_config(self.config, config)
        self.rng = random.Random(self.config.get('seed'))
        self.fault_rng = random.Random(self.config.get('seed'))
        self.stores = {}
        self.calls = {}
        self.throttled = {}      # 'service:Operation' -> calls refused by rate_limits
        from .ratelimits import Limiter
        self.limiter = Limiter()
        self.started = time.time()
        self.state_dir = state_dir
        self.dirty = False
        if state_dir:
            self.load()
        if self.config.get('seed_account') and not self.stores:
            from . import seed
            seed.seed_all(self)
        if state_dir:
            # changes are written at most SAVE_INTERVAL seconds after they happen
            # (and at shutdown): saving the whole state after every call would
            # make a 1000-resource run quadratic
            threading.Thread(target=self._saver, name='state-saver', daemon=True).start()

    SAVE_INTERVAL = 0.2

    def _saver(self):
        while True:
            time.sleep(self.SAVE_INTERVAL)
            if self.dirty:
                with self.lock:
                    try:
                        self.save()
                    except OSError as e:
                        print(f'emulator: cannot save state: {e}', flush=True,
                              file=sys.stderr)

    # --- persistence ----------------------------------------------------
    def _state_file(self):
        return os.path.join(self.state_dir, 'state.json')

    def load(self):
        try:
            with open(self._state_file()) as f:
                data = json.load(f)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            raise ValueError(f'cannot load {self._state_file()}: {e}') from None
        if not isinstance(data, dict) or not isinstance(data.get('stores', {}), dict):
            raise ValueError(f'cannot load {self._state_file()}: not an emulator state file')
        self.stores = data.get('stores', {})

    def save(self):
        if not self.state_dir:
            return
        os.makedirs(self.state_dir, exist_ok=True)
        tmp = self._state_file() + '.tmp'
        with open(tmp, 'w') as f:
            json.dump({'version': 1, 'saved_at': time.time(),
                       'stores': self.stores}, f)
        os.replace(tmp, self._state_file())
        self.dirty = False

    def reset(self):
        with self.lock:
            self.stores = {}
            self.calls = {}
            self.throttled = {}
            self.limiter.reset()
            self.started = time.time()
            self.rng = random.Random(self.config.get('seed'))
            self.fault_rng = random.Random(self.config.get('seed'))
            self.dirty = True
            if self.config.get('seed_account'):
                from . import seed
                seed.seed_all(self)

    def set_config(self, update):
        with self.lock:
            merge_config(self.config, update)
            if 'rate_limits' in update or 'rate_scale' in update:
                self.limiter.reset()     # a new table starts with full buckets
            if 'seed' in update:
                self.rng = random.Random(self.config.get('seed'))
                self.fault_rng = random.Random(self.config.get('seed'))

    def count(self, service, op):
        key = f'{service}:{op}'
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1

    def count_throttled(self, service, op):
        key = f'{service}:{op}'
        with self.lock:
            self.throttled[key] = self.throttled.get(key, 0) + 1


class Ctx:
    """What a handler knows about the request it serves."""

    def __init__(self, state, service, region='us-east-1', account=DEFAULT_ACCOUNT,
                 caller=None, access_key=None, request_id=None, operation=None):
        self._state = state
        self.service = service
        self.region = region
        self.account = account
        self.caller = caller or {}
        self.access_key = access_key
        self.request_id = request_id or str(uuid.uuid4())
        self.operation = operation
        self.config = state.config
        # protocol extras for REST services (S3): headers, raw body, etc.
        self.http = {}

    def now(self):
        return time.time() + float(self.config.get('clock_offset') or 0)

    def store(self, service):
        return self._state.stores.setdefault(service, {})

    def page_size(self, requested, default):
        """Items per page: the caller's MaxResults (else the service's default,
        None = everything), capped by config['page_size'] (short pages)."""
        n = requested if requested is not None else default
        cap = int(lookup(self.config.get('page_size'), self.service, self.operation))
        if cap > 0:
            n = cap if n is None else min(n, cap)
        return n

    def reading(self):
        """True for operations that only read (Describe*, Get*, List*)."""
        return (self.operation or '').startswith(('Describe', 'Get', 'List', 'Head'))

    def too_new(self, created, kind=None, service=None):
        """Eventual consistency: True while a resource created at `created`
        (epoch) is still invisible per config['visibility_delay']."""
        if created is None:
            return False
        # the tests' own oracle (botocore, awscli) may be exempt: it checks
        # what exists, not how a client copes with eventual consistency
        exempt = self.config.get('visibility_exempt_user_agents') or ()
        ua = (self.http.get('headers') or {}).get('User-Agent') or '' if self.http else ''
        if exempt and ua.startswith(tuple(exempt)):
            return False
        service = service or self.service
        setting = self.config.get('visibility_delay')
        delay = lookup(setting, service, kind) if setting else 0.0
        if service == 'ec2' and not delay:
            delay = lookup(self.config.get('ec2_visibility_delay'), 'ec2')
        return delay > 0 and self.now() - created < delay

    def rand_hex(self, n):
        return ''.join(self._state.rng.choice('0123456789abcdef') for _ in range(n))

    def new_id(self, prefix, length=17):
        return f'{prefix}-{self.rand_hex(length)}'

    def uuid(self):
        return str(uuid.UUID(int=self._state.rng.getrandbits(128), version=4))

    def arn(self, service, resource, region=None, account=None):
        if region is None:
            region = self.region
        if account is None:
            account = self.account
        return f'arn:aws:{service}:{region}:{account}:{resource}'


KMS_KEY_ARN_RE = re.compile(r'^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/'
                            r'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|'
                            r'mrk-[0-9a-f]{32})$')
KMS_KEY_REF_RE = re.compile(r'^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
                            r'|mrk-[0-9a-f]{32}|alias/[a-zA-Z0-9/_-]+'
                            r'|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:alias/[a-zA-Z0-9/_-]+)$')


def iso8601(ts):
    """Epoch seconds -> '2026-11-22T07:38:47.000Z' (AWS's XML timestamps)."""
    t = time.gmtime(ts)
    ms = int(round((ts - int(ts)) * 1000)) % 1000
    return time.strftime('%Y-%m-%dT%H:%M:%S', t) + f'.{ms:03d}Z'
