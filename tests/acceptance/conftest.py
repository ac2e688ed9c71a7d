"""Fixtures for the acceptance tests: the real cairn binary against the
local emulator, checked through the emulator's inventory and botocore.

cairn      a function running build/cairn (or $CAIRN) with the emulator's
           endpoint and test credentials in a clean environment
emu        the emulator (tests/emulator/conftest.py's Emulator), one per module
"""
import importlib.util
import os
import subprocess
import time

import pytest

from accept_util import TOP

CAIRN = os.environ.get('CAIRN', os.path.join(TOP, 'build', 'cairn'))

_spec = importlib.util.spec_from_file_location(
    'emulator_conftest', os.path.join(TOP, 'tests', 'emulator', 'conftest.py'))
_emu = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_emu)
Emulator = _emu.Emulator


# Eventual consistency on by default, as AWS behaves: a resource just created
# answers NotFound (reads; every EC2 call naming the id) for this long.
VISIBILITY_DELAY = {'ec2': 0.2, 'iam': 0.2, 'secretsmanager': 0.2, 'logs': 0.2,
                    'ecr': 0.2, 'ecs': 0.2}

# Modules written for an empty emulator (they compare whole inventories or
# listings, or create the seed's common names themselves): none any more, every
# module compares against emu.baseline.
EMPTY_ACCOUNT = set()
# Modules where cairn does not cope with eventual consistency: the delay is
# off there, each with the bug that keeps it off (none at present).
NO_VISIBILITY_DELAY = set()


def max_delay(e):
    d = e.control('config').get('visibility_delay') or {}
    return max(d.values(), default=0) if isinstance(d, dict) else float(d)


def settle(e):
    """Waits out the visibility delay (after the test itself created something
    out of band that cairn must then find)."""
    time.sleep(max_delay(e) + 0.05)


@pytest.fixture(scope='module')
def emu(request):
    e = Emulator()
    e.settle = lambda: settle(e)
    name = request.module.__name__.rsplit('.', 1)[-1]
    delay = {} if name in NO_VISIBILITY_DELAY else VISIBILITY_DELAY
    # fast life cycles: AWS's typical durations scaled far down
    e.control('config', {'async': {'nat_gateway_create': 0.3, 'nat_gateway_delete': 0.3,
                                   'vpc_endpoint_create': 0.2, 'vpc_endpoint_delete': 0.2,
                                   'ecs_service_drain': 0.2},
                         'visibility_delay': delay,
                         # the tests' own botocore/awscli checks see the truth
                         'visibility_exempt_user_agents': ['Botocore/', 'aws-cli/']})
    # a real account is not empty: the default VPC, common roles and log groups
    # (tests/emulator README, seed_account); inventories are compared against it
    if name not in EMPTY_ACCOUNT:
        e.control('seed', {})
    e.baseline = {(r['service'], r['type'], r['id']) for r in e.control('inventory')}
    yield e
    e.stop()


class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    def __repr__(self):
        # the ends of long outputs, where failures are summarised
        return (f'<rc={self.rc}\nstdout (end):\n{self.out[-2500:]}\n'
                f'stderr (end):\n{self.err[-2500:]}>')


@pytest.fixture
def cairn(emu, tmp_path):
    home = tmp_path / 'home'
    home.mkdir()
    env = {
        'PATH': '/usr/bin:/bin',
        'HOME': str(home),
        'AWS_ACCESS_KEY_ID': 'test',
        'AWS_SECRET_ACCESS_KEY': 'test',
        'AWS_REGION': 'us-east-1',
        'AWS_EC2_METADATA_DISABLED': 'true',
        'NO_COLOR': '1',
        'CAIRN_POLL_MIN_MS': '100',
        'CAIRN_POLL_MAX_MS': '300',
        # a NotFound for a resource changed recently is read again this
        # long before it counts as gone (src/exec/settle.c; 20 s by
        # default): well above VISIBILITY_DELAY, and short for the tests
        # that delete resources behind cairn's back
        'CAIRN_SETTLE_SECONDS': '3',
        'ASAN_OPTIONS': os.environ.get('ASAN_OPTIONS', 'detect_leaks=1'),
    }

    last = [time.time()]

    def settle_since_last():
        wait = last[0] + max_delay(emu) + 0.05 - time.time()
        if wait > 0:
            time.sleep(wait)

    def run(*args, timeout=300, extra_env=None, settle=False):
        # Each cairn command meets the visibility delays within itself (a create
        # followed by reads and writes naming the new resource), and the refresh
        # at the start of the next one reads a recent resource's NotFound again
        # (src/exec/settle.c): commands follow each other at once, as a user's
        # would. settle=True waits the delay out first (for a test that needs
        # cairn to see what the test itself just made).
        if settle:
            settle_since_last()
        e = dict(env)
        if extra_env:
            e.update(extra_env)
        try:
            p = subprocess.run([CAIRN, *args], cwd=str(tmp_path), env=e, text=True,
                               capture_output=True, timeout=timeout)
        finally:
            last[0] = time.time()
        return Result(p)
    run.tmp = tmp_path
    run.settle = settle_since_last      # for tests that start cairn themselves
    run.env = env
    run.path = CAIRN
    run.endpoint = ['--endpoint-url', emu.url]
    return run
