"""Helpers shared by the acceptance tests (not fixtures: see conftest.py)."""
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SECRET = 'pfk-Zq8vN3-not-a-real-key-5f1c'


def template_types(path):
    """Resource types a template declares, counted from its text (not by cairn)."""
    counts = {}
    # a resource type has three parts; a parameter's Type may be
    # AWS::SSM::Parameter::Value<...> or AWS::EC2::VPC::Id
    for m in re.finditer(r'^\s+Type:\s+(AWS::\w+::\w+)\s*$', open(path).read(), re.M):
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def apply_backdated(emu, stack, stack_name, state_dir, timeout=600):
    """Applies stack once with the real binary, its resources stamped 15
    minutes ago (as in a scheduled check: the secrets listing trusts entries
    older than five minutes; docs/batched-reads.md). Returns the state path."""
    state = os.path.join(str(state_dir), 'state.db')
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(state_dir), 'AWS_ACCESS_KEY_ID': 'test',
           'AWS_SECRET_ACCESS_KEY': 'test', 'AWS_REGION': 'us-east-1',
           'AWS_EC2_METADATA_DISABLED': 'true', 'NO_COLOR': '1',
           'CAIRN_POLL_MIN_MS': '100', 'CAIRN_POLL_MAX_MS': '300'}
    cairn = os.environ.get('CAIRN', os.path.join(TOP, 'build', 'cairn'))
    emu.control('config', {'clock_offset': -900})
    try:
        p = subprocess.run([cairn, 'apply', str(stack), '--auto-approve', '--stack', stack_name,
                            '--endpoint-url', emu.url, '--state', state], env=env,
                           capture_output=True, text=True, timeout=timeout)
    finally:
        emu.control('config', {'clock_offset': 0})
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return state
