import { request } from 'node:http';
import type { ServerResponse } from 'node:http';
import { listen, requestsInFlight } from '../src';

/**
 * requestsInFlight() counts the requests this process's listeners are answering, from their
 * headers to the end of their answer, however that ends: the KMS event log flushes on the event
 * loop only when it says nothing else is in flight, so a count that drifts up would switch that
 * off for good, and one that drifts down would block the loop under load.
 */
describe('requestsInFlight', () => {
  it('counts a request until its answer ends, or its client goes away; across listeners', async () => {
    const held = new Map<string, ServerResponse>();
    const hold = (req: { url?: string }, res: ServerResponse) => void held.set(req.url!, res);
    const a = await listen(hold, '127.0.0.1', 0);
    const b = await listen(hold, '127.0.0.1', 0);
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
      expect(cond()).toBe(true);
    };
    const start = requestsInFlight();
    try {
      const send = (port: number, path: string) => {
        const r = request({ host: '127.0.0.1', port, path, method: 'GET' });
        r.on('error', () => undefined);
        r.on('response', (res) => res.resume());
        r.end();
        return r;
      };
      send(a.port, '/one');
      const gone = send(a.port, '/gone');
      send(b.port, '/other');
      await until(() => held.size === 3);
      expect(requestsInFlight()).toBe(start + 3);
      held.get('/one')!.end('done');
      await until(() => requestsInFlight() === start + 2);
      // A client that leaves before its answer: in flight until the server is done with it (the
      // connection stays half open for the answer), and counted once.
      gone.destroy();
      await new Promise((r) => setTimeout(r, 20));
      held.get('/gone')!.end('too late');
      await until(() => requestsInFlight() === start + 1);
      held.get('/other')!.end();
      await until(() => requestsInFlight() === start);
      await new Promise((r) => setTimeout(r, 20));
      expect(requestsInFlight()).toBe(start);
      // An answer the server cuts off.
      send(b.port, '/cut');
      await until(() => held.has('/cut'));
      expect(requestsInFlight()).toBe(start + 1);
      held.get('/cut')!.destroy();
      await until(() => requestsInFlight() === start);
    } finally {
      await a.close(0);
      await b.close(0);
    }
  });
});
