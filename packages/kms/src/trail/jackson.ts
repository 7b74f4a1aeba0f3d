/**
 * JSON as AWS's Java services pretty-print it (Jackson's default pretty printer): two-space
 * indents per object level, `"key" : value`, arrays inline as `[ a, b ]` and `[ {` ... `} ]`.
 * KMS returns default key policies in exactly this form.
 */
export function jacksonPretty(value: unknown, depth = 0): string {
  if (Array.isArray(value)) {
    return value.length === 0 ? '[ ]' : `[ ${value.map((v) => jacksonPretty(v, depth)).join(', ')} ]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{ }';
    const pad = '  '.repeat(depth + 1);
    return `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)} : ${jacksonPretty(v, depth + 1)}`).join(',\n')}\n${'  '.repeat(depth)}}`;
  }
  return JSON.stringify(value);
}
