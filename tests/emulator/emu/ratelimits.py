"""AWS's request rate limits as token buckets (config `rate_limits`).

The table is data/rate-limits/rate-limits.json, the one cairn's client
embeds: per service, the bucket of each operation ([burst, refill per
second]), shared buckets (ECS's categories, Secrets Manager's combined
quotas) and the sizes of unlisted reads and mutating calls (each its own
bucket when per_api, else one shared bucket for all reads and one for all
mutating calls). Buckets are kept per account and Region (IAM: per account),
start full, and a call that finds its bucket empty is refused with the
protocol's throttling error, taking nothing (AWS does not charge a refused
request). `rate_scale` multiplies every refill rate (bursts stay), so a test
runs the same schedule N times faster.
"""
import json
import os
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DATA = os.path.join(TOP, 'data', 'rate-limits', 'rate-limits.json')
READ_PREFIXES = ('Describe', 'Get', 'List', 'Search', 'Head')
# emulator service names that the table spells otherwise
ALIASES = {'resourcegroupstaggingapi': 'tagging'}

_table = None


def documented():
    """The table of data/rate-limits/rate-limits.json ({service: spec})."""
    global _table
    if _table is None:
        with open(DATA) as f:
            _table = json.load(f)['services']
    return _table


def is_read(op):
    return op.startswith(READ_PREFIXES)


def bucket_for(table, service, op):
    """-> (bucket name, burst, rate, global) for one call, or None when the
    table does not limit that service."""
    service = ALIASES.get(service, service)
    spec = table.get(service)
    if not isinstance(spec, dict):
        return None
    glob = bool(spec.get('global'))
    want = (spec.get('apis') or {}).get(op)
    if isinstance(want, str):
        size = (spec.get('groups') or {}).get(want)
        if size:
            return f'{service}:{want}', float(size[0]), float(size[1]), glob
        want = None
    if isinstance(want, list):
        return f'{service}:{op}', float(want[0]), float(want[1]), glob
    kind = 'read' if is_read(op) else 'mutating'
    size = spec.get(kind)
    if not size:
        return None
    name = f'{service}:{op}' if spec.get('per_api') else f'{service}:{kind}'
    return name, float(size[0]), float(size[1]), glob


class Limiter:
    """The buckets of every account and Region the emulator has served."""

    def __init__(self):
        self.lock = threading.Lock()
        self.buckets = {}   # (account, region, bucket) -> [tokens, last time]

    def reset(self):
        with self.lock:
            self.buckets = {}

    def take(self, config, account, region, service, op, now=None):
        """True when the call may go (one token taken), False when its bucket
        is empty (nothing taken)."""
        setting = config.get('rate_limits')
        if not setting:
            return True
        table = documented()
        if isinstance(setting, dict):
            table = dict(table, **setting)
        b = bucket_for(table, service, op)
        if b is None:
            return True
        name, burst, rate, glob = b
        try:
            scale = float(config.get('rate_scale') or 1.0)
        except (TypeError, ValueError):
            scale = 1.0
        rate *= scale if scale > 0 else 1.0
        now = time.monotonic() if now is None else now
        key = (account or '', '' if glob else (region or ''), name)
        with self.lock:
            cur = self.buckets.get(key)
            if cur is None:
                cur = self.buckets[key] = [burst, now]
            # requests taken out of arrival order: no refill backwards
            if now > cur[1]:
                cur[0] = min(burst, cur[0] + (now - cur[1]) * rate)
                cur[1] = now
            if cur[0] < 1.0 - 1e-9:
                return False
            cur[0] -= 1.0
            return True
