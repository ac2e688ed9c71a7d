"""The AWS client against an account that is not the emulator's perfect
default: a server clock far from ours, SSO profiles, credentials that expire
mid-run, credential sources that fail for a while, zones that are not
<region>a/b/c. The real binary against the emulator; outcomes checked through
the emulator's call counters and inventory."""
import json

import pytest

SMALL = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /cairn-client/{name}
      RetentionInDays: 7
  Net:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.42.0.0/16
"""


def _calls(emu):
    return emu.control('calls')


def _total(calls):
    return sum(calls.values())


def _apply(cairn, emu, name, *extra, extra_env=None):
    tpl = cairn.tmp / f'{name}.yaml'
    tpl.write_text(SMALL.format(name=name))
    return cairn('apply', str(tpl), '--auto-approve', '--parallelism', '1',
                 '--state', str(cairn.tmp / f'{name}.db'), *cairn.endpoint, *extra,
                 extra_env=extra_env)


@pytest.fixture
def clean(emu):
    emu.reset()
    emu.control('calls', method='DELETE')
    yield emu
    emu.control('config', {'server_clock_offset': 0, 'clock_offset': 0})


def test_whoami_corrects_a_clock_20_minutes_behind(clean, cairn):
    emu = clean
    emu.control('config', {'server_clock_offset': 1200})
    r = cairn('whoami', *cairn.endpoint)
    assert r.rc == 0, r
    # refused once (Signature expired), signed again with the server's time
    assert _calls(emu).get('sts:GetCallerIdentity') == 2


@pytest.mark.parametrize('offset', [1200, -1200])
def test_apply_with_skewed_server_clock_costs_one_call(clean, cairn, offset):
    emu = clean
    r = _apply(cairn, emu, 'baseline')
    assert r.rc == 0, r
    baseline = _total(_calls(emu))
    emu.reset()
    emu.control('calls', method='DELETE')
    emu.control('config', {'server_clock_offset': offset})
    r = _apply(cairn, emu, 'skewed', '--debug')
    assert r.rc == 0, r
    # the first call is refused and corrected; every later one is signed
    # with the learnt offset (EC2's RequestExpired included: no credential
    # refresh, no second refusal)
    assert _total(_calls(emu)) == baseline + 1, (_calls(emu), baseline)
    types = sorted(x['type'] for x in emu.control('inventory'))
    assert any('vpc' in t.lower() for t in types) and any('log' in t.lower() for t in types)
    assert 'fetching credentials again' not in r.err
