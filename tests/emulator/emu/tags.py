"""Tag rules every service but EC2 applies ("Tagging AWS resources", Tag naming
limits and requirements): keys 1-128 and values 0-256 Unicode characters of
letters, numbers, spaces and _ . : / = + - @ (the models' pattern
[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*), and no key starting with aws: (reserved).
EC2 documents that it allows any character ("Tag restrictions")."""
import re

from .core import AwsError

_TAG_RE = re.compile(r'^[\w\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000'
                     r'.:/=+\-@]*$')


def check(pairs, code='InvalidParameterException'):
    """pairs: [(key, value)]; raises AwsError(code) for the first bad tag."""
    for k, v in pairs:
        v = v or ''
        if not k or len(k) > 128 or not _TAG_RE.match(k):
            raise AwsError(code, f"1 validation error detected: Value '{k}' at 'tags.key' "
                                 f"failed to satisfy constraint: Member must satisfy regular "
                                 f"expression pattern: ^([\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*)$")
        if k.lower().startswith('aws:'):
            raise AwsError(code, f"Tag key '{k}': keys starting with 'aws:' are reserved for "
                                 f"AWS use.")
        if len(v) > 256 or not _TAG_RE.match(v):
            raise AwsError(code, f"1 validation error detected: Value '{v}' at 'tags.value' "
                                 f"failed to satisfy constraint: Member must satisfy regular "
                                 f"expression pattern: ^([\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*)$")
