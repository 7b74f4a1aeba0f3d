import { SerializationException } from './errors';

/** A parsed JSON request body: always an object. */
export type JsonInput = Record<string, unknown>;

/** The JSON token name coral reports when a member has the wrong type. */
function tokenOf(value: unknown): string {
  if (typeof value === 'string') return 'STRING_VALUE';
  if (typeof value === 'number') return 'NUMBER_VALUE';
  if (typeof value === 'boolean') return value ? 'TRUE_VALUE' : 'FALSE_VALUE';
  return 'VALUE';
}

function mismatch(value: unknown, target: string): never {
  if (Array.isArray(value)) throw new SerializationException('Start of list found where not expected');
  if (typeof value === 'object' && value !== null) throw new SerializationException('Start of structure or map found where not expected.');
  throw new SerializationException(`${tokenOf(value)} can not be converted to ${target}`);
}

/** JSON null and an absent member mean the same to AWS. */
export function optionalInteger(input: JsonInput, member: string): number | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) mismatch(value, 'an Integer');
  return value;
}

export function optionalString(input: JsonInput, member: string): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') mismatch(value, 'a String');
  return value;
}

export function optionalBoolean(input: JsonInput, member: string): boolean | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') mismatch(value, 'a Boolean');
  return value;
}
