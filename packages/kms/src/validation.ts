import { ValidationException } from './errors';

/**
 * Validation against the AWS model's constraints, with the exact wording of AWS's
 * ValidationException: "1 validation error detected: Value '1025' at 'numberOfBytes' failed to
 * satisfy constraint: Member must have value less than or equal to 1024"; several problems are
 * joined with "; " after "N validation errors detected: ".
 */
export class Violations {
  private readonly messages: string[] = [];

  add(value: string, member: string, constraint: string): void {
    this.messages.push(`Value '${value}' at '${memberPath(member)}' failed to satisfy constraint: Member must ${constraint}`);
  }

  /** `Value null at 'keyId' failed to satisfy constraint: Member must not be null` */
  addNull(member: string): void {
    this.messages.push(`Value null at '${memberPath(member)}' failed to satisfy constraint: Member must not be null`);
  }

  integerRange(value: number | undefined, member: string, min: number | undefined, max: number | undefined): void {
    if (value === undefined) return;
    if (min !== undefined && value < min) this.add(String(value), member, `have value greater than or equal to ${min}`);
    if (max !== undefined && value > max) this.add(String(value), member, `have value less than or equal to ${max}`);
  }

  stringLength(value: string | undefined, member: string, min: number | undefined, max: number | undefined): void {
    if (value === undefined) return;
    if (min !== undefined && value.length < min) this.add(value, member, `have length greater than or equal to ${min}`);
    if (max !== undefined && value.length > max) this.add(value, member, `have length less than or equal to ${max}`);
  }

  enumValue(value: string | undefined, member: string, allowed: readonly string[]): void {
    if (value !== undefined && !allowed.includes(value)) this.add(value, member, `satisfy enum value set: [${allowed.join(', ')}]`);
  }

  throwIfAny(): void {
    const n = this.messages.length;
    if (n === 0) return;
    throw new ValidationException(`${n} validation error${n === 1 ? '' : 's'} detected: ${this.messages.join('; ')}`);
  }
}

/** AWS names members in lower camel case: NumberOfBytes -> numberOfBytes. */
function memberPath(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}
