"""IAM policy grammar, as IAM checks it when a policy is stored.

Sources (IAM User Guide): "IAM JSON policy element reference" (the elements a
statement may hold, Version, Sid "supports ASCII uppercase letters (A-Z),
lowercase letters (a-z), and numbers (0-9)", unique within a policy),
"IAM JSON policy elements: Condition operators" (the operators, the
ForAnyValue:/ForAllValues: prefixes and the IfExists suffix), "AWS JSON policy
elements: Principal" (AWS / Service / Federated / CanonicalUser, and "if the
principal is a role or user that does not exist, the policy is refused"),
"IAM and AWS STS quotas" (role trust policy 2,048 characters, managed policy
6,144, inline policies of a role 10,240 in total; white space not counted).

check(doc, kind, ...) raises AwsError(MalformedPolicyDocument | LimitExceeded).
kind: 'trust' (a role's AssumeRolePolicyDocument), 'identity' (managed or
inline), 'resource' (a resource-based policy: Principal required).
"""
import json
import re

from .core import AwsError

STATEMENT_KEYS = {'Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction',
                  'Resource', 'NotResource', 'Condition'}
TOP_KEYS = {'Version', 'Id', 'Statement'}
OPERATORS = {
    'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase',
    'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
    'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals',
    'NumericGreaterThan', 'NumericGreaterThanEquals',
    'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals',
    'DateGreaterThan', 'DateGreaterThanEquals', 'Bool', 'BinaryEquals',
    'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike',
    'Null',
}
TRUST_ACTIONS = {'sts:assumerole', 'sts:assumerolewithsaml', 'sts:assumerolewithwebidentity',
                 'sts:tagsession', 'sts:setsourceidentity', 'sts:setcontext', 'sts:*'}
PRINCIPAL_KEYS = {'AWS', 'Service', 'Federated', 'CanonicalUser'}
_ACTION_RE = re.compile(r'^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]*$')
_SID_RE = re.compile(r'^[A-Za-z0-9]*$')
_SERVICE_RE = re.compile(r'^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$|^[a-z0-9-]+\.aws\.internal$')
_ACCOUNT_RE = re.compile(r'^\d{12}$')
_IAM_ARN_RE = re.compile(r'^arn:aws[a-z-]*:(iam|sts)::(\d{12}|aws):(.+)$')
TRUST_MAX = 2048
MANAGED_MAX = 6144
INLINE_ROLE_MAX = 10240


def _malformed(msg):
    return AwsError('MalformedPolicyDocument', msg)


def _list(v):
    return v if isinstance(v, list) else [v]


def size(doc):
    """Characters IAM counts: white space outside strings is not counted."""
    try:
        return len(json.dumps(json.loads(doc), separators=(',', ':'), ensure_ascii=False))
    except ValueError:
        return len(doc)


def _check_principal(p, ctx, roles):
    if p == '*':
        return
    if not isinstance(p, dict) or not p:
        raise _malformed('Invalid principal in policy')
    for k, vals in p.items():
        if k not in PRINCIPAL_KEYS:
            raise _malformed(f'Invalid principal in policy: "{k}"')
        for v in _list(vals):
            if not isinstance(v, str):
                raise _malformed('Invalid principal in policy')
            if k == 'AWS':
                if v == '*' or _ACCOUNT_RE.match(v):
                    continue
                m = _IAM_ARN_RE.match(v)
                if not m:
                    raise _malformed(f'Invalid principal in policy: "AWS":"{v}"')
                acct, res = m.group(2), m.group(3)
                if ctx is not None and acct == ctx.account and res.startswith('role/') \
                        and roles is not None and res.rsplit('/', 1)[-1] not in roles:
                    raise _malformed(f'Invalid principal in policy: "AWS":"{v}"')
            elif k == 'Service':
                if not _SERVICE_RE.match(v):
                    raise _malformed(f'Invalid principal in policy: "SERVICE":"{v}"')
            elif k == 'Federated':
                if not (v.startswith('arn:') or '.' in v):
                    raise _malformed(f'Invalid principal in policy: "FEDERATED":"{v}"')


def check(doc, kind='identity', ctx=None, roles=None):
    """Raises MalformedPolicyDocument for what IAM refuses; returns doc.
    roles: names of the account's roles (to refuse trust in a ghost role)."""
    try:
        d = json.loads(doc)
    except ValueError:
        raise _malformed('This policy contains invalid Json')
    if not isinstance(d, dict):
        raise _malformed('This policy contains invalid Json')
    if kind == 'trust' and size(doc) > TRUST_MAX:
        raise AwsError('LimitExceeded', f'Cannot exceed quota for ACLSizePerRole: {TRUST_MAX}')
    if kind == 'identity-managed' and size(doc) > MANAGED_MAX:
        raise AwsError('LimitExceeded', f'Cannot exceed quota for PolicySize: {MANAGED_MAX}')
    for k in d:
        if k not in TOP_KEYS:
            raise _malformed('Syntax errors in policy.')
    if d.get('Version', '2008-10-17') not in ('2012-10-17', '2008-10-17'):
        raise _malformed('The policy must contain a valid version string')
    stmts = d.get('Statement')
    if stmts is None:
        raise _malformed('Syntax errors in policy.')
    if isinstance(stmts, dict):
        stmts = [stmts]
    if not isinstance(stmts, list) or not stmts:
        raise _malformed('Syntax errors in policy.')
    sids = set()
    for s in stmts:
        if not isinstance(s, dict):
            raise _malformed('Syntax errors in policy.')
        for k in s:
            if k not in STATEMENT_KEYS:
                raise _malformed('Syntax errors in policy.')
        if s.get('Effect') not in ('Allow', 'Deny'):
            raise _malformed('Syntax errors in policy.')
        sid = s.get('Sid')
        if sid is not None:
            if not isinstance(sid, str) or (kind != 'resource' and not _SID_RE.match(sid)):
                raise _malformed('Statement IDs (SID) must be alpha-numeric. Check that your '
                                 'input satisfies the regular expression [0-9A-Za-z]*')
            if sid and sid in sids:
                raise _malformed('Statement IDs (SID) in a single policy must be unique.')
            sids.add(sid)
        for a, b in (('Action', 'NotAction'), ('Resource', 'NotResource'),
                     ('Principal', 'NotPrincipal')):
            if a in s and b in s:
                raise _malformed('Syntax errors in policy.')
        if 'Action' not in s and 'NotAction' not in s:
            raise _malformed('Policy statement must contain actions.')
        actions = _list(s.get('Action', s.get('NotAction')))
        for act in actions:
            if not isinstance(act, str) or not act:
                raise _malformed('Syntax errors in policy.')
            if act != '*' and not _ACTION_RE.match(act):
                raise _malformed('Actions/Conditions must be prefaced by a vendor, e.g., iam, '
                                 'sdb, ec2, etc.')
        if kind == 'trust':
            if 'Principal' not in s and 'NotPrincipal' not in s:
                raise _malformed('AssumeRolepolicy contained an invalid principal.')
            if 'Resource' in s or 'NotResource' in s:
                raise _malformed('Has prohibited field Resource')
            if 'NotAction' in s or any(a.lower() not in TRUST_ACTIONS and a != '*'
                                       for a in actions):
                raise _malformed('AssumeRole policy may only specify STS AssumeRole actions.')
        elif kind == 'resource':
            if 'Principal' not in s and 'NotPrincipal' not in s:
                raise _malformed('Policy statement must contain principals.')
        else:
            if 'Principal' in s or 'NotPrincipal' in s:
                raise _malformed('Policy document should not specify a principal.')
            if 'Resource' not in s and 'NotResource' not in s:
                raise _malformed('Policy statement must contain resources.')
        if 'Principal' in s or 'NotPrincipal' in s:
            _check_principal(s.get('Principal', s.get('NotPrincipal')), ctx, roles)
        for res in _list(s.get('Resource', s.get('NotResource', []))):
            if not isinstance(res, str):
                raise _malformed('Syntax errors in policy.')
            if res != '*' and not (res.startswith('arn:') and res.count(':') >= 5):
                raise _malformed(f'Resource {res} must be in ARN format or "*".')
        cond = s.get('Condition')
        if cond is not None:
            if not isinstance(cond, dict):
                raise _malformed('Syntax errors in policy.')
            for op, block in cond.items():
                base = op
                for pre in ('ForAnyValue:', 'ForAllValues:'):
                    if base.startswith(pre):
                        base = base[len(pre):]
                if base.endswith('IfExists') and base != 'IfExists':
                    base = base[:-len('IfExists')]
                if base not in OPERATORS or not isinstance(block, dict):
                    raise _malformed(f'Invalid Condition type : {op}.')
    return doc
