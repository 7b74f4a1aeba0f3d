/**
 * The fixture's fault rules (issue 18, item 5): the same rules as POST /_sealbox/faults.
 */
import { GenerateRandomCommand, KMSClient } from '@aws-sdk/client-kms';
import { startSandbox } from '../src';

describe('@sealbox/testing fault rules', () => {
  it('@sealbox/testing: addFault, listFaults, removeFault; reset() clears them', async () => {
    const sandbox = await startSandbox();
    try {
      const rule = await sandbox.addFault({ service: 'kms', operation: 'GenerateRandom', error: 'ThrottlingException' });
      const kms = new KMSClient({ ...sandbox.kmsConfig, maxAttempts: 1 });
      expect(((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 8 })).catch((e: Error) => e)) as Error).name).toBe('ThrottlingException');
      expect((await sandbox.listFaults()).map((r) => [r.id, r.fired])).toEqual([[rule.id, 1]]);
      await sandbox.reset();
      expect(await sandbox.listFaults()).toEqual([]);
      await kms.send(new GenerateRandomCommand({ NumberOfBytes: 8 }));
      await expect(sandbox.addFault({ service: 'kms', operation: 'GenerateRandom', error: 'NotFoundException' })).rejects.toThrow(/GenerateRandom does not return NotFoundException/);
    } finally {
      await sandbox.stop();
    }
  });

});
