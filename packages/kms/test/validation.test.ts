import { Violations } from '../src/validation';

describe('Violations', () => {
  it('words one error as AWS does', () => {
    const v = new Violations();
    v.integerRange(1025, 'NumberOfBytes', 1, 1024);
    expect(() => v.throwIfAny()).toThrow(
      "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024",
    );
  });

  it('joins several with "; "', () => {
    const v = new Violations();
    v.stringLength('x'.repeat(8193), 'Description', 0, 8192);
    v.enumValue('AES_512', 'KeySpec', ['AES_256', 'AES_128']);
    v.addNull('KeyId');
    expect(() => v.throwIfAny()).toThrow(
      `3 validation errors detected: Value '${'x'.repeat(8193)}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192; Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]; Value null at 'keyId' failed to satisfy constraint: Member must not be null`,
    );
  });

  it('is silent when nothing is wrong', () => {
    const v = new Violations();
    v.integerRange(5, 'NumberOfBytes', 1, 1024);
    expect(() => v.throwIfAny()).not.toThrow();
  });
});
