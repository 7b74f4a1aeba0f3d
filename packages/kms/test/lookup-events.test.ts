import { VirtualClock } from '@sealbox/runtime';
import { lookupEvents } from '../src/cloudtrail';
import { KmsCore } from '../src/core';
import type { StoredEvent } from '../src/store/kms-store';

const event = (id: string, time: number): StoredEvent => ({
  eventId: id,
  time,
  accountId: '111122223333',
  recipientAccountId: '111122223333',
  region: 'us-east-1',
  eventName: 'Encrypt',
  username: 'root',
  accessKeyId: 'AKIA',
  readOnly: false,
  resources: [],
  record: JSON.stringify({ eventID: id }),
});

describe('LookupEvents paging', () => {
  it('pages through every event, newest first, when the log\'s order is not the order of the calls\' times (a slow call answered after a quick one it began before, a deletion recorded a moment after it fell due)', () => {
    const core = new KmsCore({ clock: new VirtualClock() });
    try {
      // Recorded in this order (the order calls were answered); dated when each began.
      core.store.appendEvents([event('quick', 2000), event('slow', 1000), event('third', 3000), event('deleted', 2500)]);
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = lookupEvents(core, { MaxResults: 1, ...(token ? { NextToken: token } : {}) }, '111122223333', 'us-east-1') as { Events: { EventId: string }[]; NextToken?: string };
        seen.push(...page.Events.map((e) => e.EventId));
        token = page.NextToken;
      } while (token !== undefined && seen.length < 10);
      expect(seen).toEqual(['third', 'deleted', 'quick', 'slow']);
      const all = lookupEvents(core, { MaxResults: 2 }, '111122223333', 'us-east-1') as { Events: { EventId: string }[]; NextToken?: string };
      const rest = lookupEvents(core, { MaxResults: 50, NextToken: all.NextToken }, '111122223333', 'us-east-1') as { Events: { EventId: string }[] };
      expect([...all.Events, ...rest.Events].map((e) => e.EventId)).toEqual(['third', 'deleted', 'quick', 'slow']);
    } finally {
      core.close();
    }
  });
});
