"""Fixtures of the conformance suite: the real cairn binary against the
local emulator (tests/emulator), with the emulator's fast life cycles as
the acceptance tests use them.

emu     one emulator per worker thread of the suite (see test_conformance.py)
"""
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CAIRN = os.environ.get('CAIRN', os.path.join(TOP, 'build', 'cairn'))

_spec = importlib.util.spec_from_file_location(
    'emulator_conftest', os.path.join(TOP, 'tests', 'emulator', 'conftest.py'))
_emu = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_emu)
Emulator = _emu.Emulator

# AWS's typical durations scaled far down (as tests/acceptance/conftest.py)
FAST = {'async': {'nat_gateway_create': 0.3, 'nat_gateway_delete': 0.3,
                  'vpc_endpoint_create': 0.2, 'vpc_endpoint_delete': 0.2,
                  'ecs_service_drain': 0.2, 'instance_start': 0.2, 'instance_stop': 0.2,
                  'instance_terminate': 0.2, 'ecs_agent_register': 0.5,
                  'ecs_instance_deregister': 0.3}}


def start_emulator():
    e = Emulator()
    e.control('config', FAST)
    return e
