import { connect } from 'node:net';
import type { ServerResponse } from 'node:http';
import { listen, requestsInFlight } from '../src';

/**
 * requestsInFlight() must come back to where it was however a connection ends: a count that
 * drifts up switches the KMS event log's flush on the event loop off for the life of the process.
 */
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  return cond();
};

describe('requestsInFlight drift', () => {
  it('a request pipelined behind one being answered, whose client goes away, is not counted for ever', async () => {
    const held: ServerResponse[] = [];
    const server = await listen((_req, res) => void held.push(res), '127.0.0.1', 0);
    const start = requestsInFlight();
    try {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((r) => socket.once('connect', r));
      // Two requests in one write: the second waits behind the first (held by the handler).
      socket.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n');
      await until(() => held.length === 1 && requestsInFlight() === start + 2);
      expect(requestsInFlight()).toBe(start + 2);
      // The client leaves; the server then ends the first answer (to a closed connection).
      socket.destroy();
      await new Promise((r) => setTimeout(r, 50));
      for (const res of held) res.end('late');
      await until(() => requestsInFlight() === start);
      await new Promise((r) => setTimeout(r, 50));
      expect(requestsInFlight()).toBe(start);
    } finally {
      await server.close(0);
    }
  });

  it('a request pipelined behind one being answered, the server closing first, is not counted for ever', async () => {
    const held: ServerResponse[] = [];
    const server = await listen((_req, res) => void held.push(res), '127.0.0.1', 0);
    const start = requestsInFlight();
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => held.length === 1 && requestsInFlight() === start + 2);
    await server.close(0);
    socket.destroy();
    await until(() => requestsInFlight() === start);
    expect(requestsInFlight()).toBe(start);
  });
});
