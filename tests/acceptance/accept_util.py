"""Helpers shared by the acceptance tests (not fixtures: see conftest.py)."""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SECRET = 'pfk-Zq8vN3-not-a-real-key-5f1c'


def template_types(path):
    """Resource types a template declares, counted from its text (not by cairn)."""
    counts = {}
    # resource types have three parts; parameter types (AWS::EC2::KeyPair::KeyName,
    # AWS::SSM::Parameter::Value<...>) more
    for m in re.finditer(r'^\s+Type:\s+(AWS::\w+::\w+)\s*$', open(path).read(), re.M):
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts
