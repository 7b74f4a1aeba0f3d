#!/usr/bin/env python3
"""Extracts the AWS KMS API model (shapes, constraints, operations; no documentation) from the
botocore installed on this machine into packages/kms/src/model/kms-model.json.

Input validation follows this model, so its constraints and member order are AWS's own.
Run again after upgrading botocore to pick up new operations or constraints."""
import gzip, json, os, sys
import botocore

src = os.path.join(os.path.dirname(botocore.__file__), 'data', 'kms', '2014-11-01', 'service-2.json.gz')
model = json.load(gzip.open(src))

def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in ('documentation', 'deprecatedMessage', 'exception', 'error')}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value

out = {
    'botocoreVersion': botocore.__version__,
    'operations': {name: {'input': op['input']['shape'], 'output': op.get('output', {}).get('shape')} for name, op in sorted(model['operations'].items())},
    'shapes': {name: strip(shape) for name, shape in sorted(model['shapes'].items()) if not shape.get('exception')},
}
dest = os.path.join(os.path.dirname(__file__), '..', 'packages', 'kms', 'src', 'model', 'kms-model.json')
with open(dest, 'w') as f:
    json.dump(out, f, indent=1, sort_keys=False)
    f.write('\n')
print(f'wrote {dest} ({len(out["operations"])} operations, {len(out["shapes"])} shapes) from botocore {botocore.__version__}', file=sys.stderr)
