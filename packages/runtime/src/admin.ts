import express from 'express';
import type { Request, Response, Router } from 'express';
import type { VirtualClock } from './clock';
import { checkAdminRequest, sendAdminRefusal } from './admin-request';
import { BodyTooLargeError, readBody } from './http';
import { FaultRuleError, type FaultRules } from './faults';
import { AdminInputError, decisionsDocument, requestSummary, type DecisionRecord, type RequestLog } from './request-log';

export interface AdminOptions {
  service: string;
  clock: VirtualClock;
  /** Extra fields for the health document (region, endpoints, ...). */
  health?: () => Record<string, unknown>;
  /** Host names accepted for requests that change state, besides Sealbox's own addresses (checkAdminRequest). */
  hosts?: readonly string[];
  /** The sandbox's reset and snapshots, when the service runs inside one (startSealbox). */
  fixture?: Fixture;
  /** The sandbox's fault rules (both services share them): /_sealbox/faults. */
  faults?: FaultRules;
  /** The service's recent requests and their decisions: /_sealbox/requests, /_sealbox/decisions. */
  requests?: () => RequestLog;
  /** POST /_sealbox/decisions/simulate: a hypothetical request decided against the current policies. */
  simulate?: (input: Record<string, unknown>) => DecisionRecord;
}

/** A saved state, as `GET /_sealbox/snapshots` lists it. */
export interface SnapshotInfo {
  name: string;
  /** Wall-clock time it was saved. */
  created: string;
  /** Memory it holds: databases and object bytes. */
  bytes: number;
}

/** A fixture operation refused, with the HTTP status to answer. */
export class FixtureError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 413,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What the sandbox behind a service does for its admin endpoints. Reset and snapshots act on the
 * whole sandbox (both services, the event log, the clock), whichever port is asked.
 */
export interface Fixture {
  reset(): void;
  saveSnapshot(name: string): SnapshotInfo;
  restoreSnapshot(name: string): void;
  deleteSnapshot(name: string): void;
  listSnapshots(): { snapshots: SnapshotInfo[]; limits: { count: number; bytes: number } };
  /** Accept these endpoints from any address (--allow-remote-admin), not only loopback. */
  allowRemote?: boolean;
}

/** moto_server's reset (moto/moto_api/_internal/urls.py), answered as moto answers it. */
export const MOTO_RESET_PATH = '/moto-api/reset';
/** moto's exact body (`json.dumps({"status": "ok"})`, moto/moto_api/_internal/responses.py). */
const MOTO_RESET_BODY = '{"status": "ok"}';

const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A snapshot's name, checked the same way whether it comes over HTTP or from a fixture in
 * process: one saved in process under a name HTTP refuses could be listed but never restored
 * or deleted over HTTP. Throws FixtureError(400).
 */
export function checkSnapshotName(name: unknown): string {
  if (typeof name !== 'string' || !SNAPSHOT_NAME.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : typeof name;
    throw new FixtureError(400, `a snapshot name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit; got ${shown}`);
  }
  return name;
}

const isLoopback = (address: string | undefined) => address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';

/**
 * moto's reset exactly as moto's clients send it: that path, no query string. On S3 anything else
 * (`/moto-api/reset?uploads`) is an S3 request to the object `reset` of a bucket `moto-api`.
 */
export function isMotoReset(url: string | undefined): boolean {
  return url === MOTO_RESET_PATH;
}

/**
 * Sealbox's own endpoints, under `/_sealbox/` so they never collide with an AWS path
 * (no bucket can be named `_sealbox`: underscores are not allowed in bucket names).
 */
export function adminRouter(options: AdminOptions): Router {
  const router = express.Router();
  const clockDocument = () => ({ now: options.clock.now().toISOString(), offsetSeconds: options.clock.offsetSeconds });

  // No Access-Control-Allow-* header is ever sent: the GETs below stay readable by any client
  // (a container's health check names the service by its own name), but not by a web page.
  // A CORS preflight to any admin path is refused, so no page can send a JSON POST.
  router.options(/^\/_sealbox\//i, (req, res, next) => {
    const refusal = checkAdminRequest(req, { hosts: options.hosts, changesState: true });
    if (refusal?.rule === 'cors-preflight') sendAdminRefusal(req, res, refusal);
    else next();
  });

  router.get('/_sealbox/health', (_req, res) => {
    res.json({ status: 'ok', service: options.service, ...options.health?.() });
  });

  router.get('/_sealbox/clock', (_req, res) => {
    res.json(clockDocument());
  });

  router.post('/_sealbox/clock', async (req, res) => {
    const refusal = checkAdminRequest(req, { hosts: options.hosts, changesState: true });
    if (refusal) {
      sendAdminRefusal(req, res, refusal);
      return;
    }
    let advance: unknown;
    try {
      const body = await readBody(req, 4096);
      advance = body.length ? (JSON.parse(body.toString('utf8')) as { advanceSeconds?: unknown }).advanceSeconds : undefined;
    } catch (err) {
      const message = err instanceof BodyTooLargeError ? err.message : 'body must be JSON: {"advanceSeconds": N}';
      res.status(400).json({ error: message });
      return;
    }
    if (typeof advance !== 'number' || !Number.isFinite(advance) || advance < 0) {
      res.status(400).json({ error: 'advanceSeconds must be a number >= 0 (the clock only moves forward)' });
      return;
    }
    if (advance > options.clock.maxAdvanceSeconds()) {
      res.status(400).json({ error: `advanceSeconds must be at most ${options.clock.maxAdvanceSeconds()}: the clock cannot pass 9999-12-31T23:59:59Z` });
      return;
    }
    // Answered once the advance has taken effect (at the next whole second of wall time).
    await options.clock.advance(advance);
    res.json(clockDocument());
  });

  if (options.requests) decisionRoutes(router, options.requests, options.simulate, options.hosts);
  if (options.fixture) fixtureRoutes(router, options.fixture, options.hosts);
  if (options.faults) faultRoutes(router, options.faults, options.hosts, options.fixture?.allowRemote ?? false);
  // What express would answer with its HTML page and the stack (a path parameter that is not
  // valid percent-encoding, `/_sealbox/snapshots/%ff`): JSON, as every admin answer, and no stack.
  router.use((err: unknown, req: Request, res: Response, next: (err?: unknown) => void) => {
    const status = (err as { status?: unknown }).status;
    if (res.headersSent || typeof status !== 'number' || status < 400 || status > 499) return next(err);
    req.resume();
    res.status(status).json({ error: err instanceof URIError ? `${req.method} ${req.path}: the path is not valid percent-encoding` : `${req.method} ${req.path}: the request could not be read` });
  });
  return router;
}

/**
 * POST /_sealbox/reset, POST /moto-api/reset, and the snapshots. They change state without a
 * signature, so: loopback only unless allowed, and the admin request rule (Host, Origin; no body
 * or a JSON one). Each is answered once its work is done, in milliseconds (no I/O but the
 * object bytes of a snapshot written to the temporary directory).
 */
function fixtureRoutes(router: Router, fixture: Fixture, hosts: readonly string[] | undefined): void {
  const admitted = async (req: Request, res: Response): Promise<boolean> => {
    const path = (req.originalUrl ?? req.url).split('?')[0];
    if (!fixture.allowRemote && !isLoopback(req.socket.remoteAddress)) {
      req.resume();
      res.status(403).json({ error: `loopback: ${req.method} ${path} is accepted only from the loopback interface (start Sealbox with --allow-remote-admin to accept it from elsewhere)`, rule: 'loopback' });
      return false;
    }
    const refusal = checkAdminRequest(req, { hosts, changesState: true, bodyless: true });
    if (refusal) {
      sendAdminRefusal(req, res, refusal);
      return false;
    }
    // A JSON body is allowed and ignored (a client that always sends `{}`); read so the
    // connection can carry the next request.
    try {
      await readBody(req, 4096);
    } catch (err) {
      res.status(400).json({ error: err instanceof BodyTooLargeError ? err.message : 'the body could not be read' });
      return false;
    }
    return true;
  };
  const run = (req: Request, res: Response, work: () => unknown) => {
    admitted(req, res).then(
      (ok) => {
        if (!ok) return;
        try {
          const answer = work();
          if (answer === undefined) res.status(204).end();
          else if (typeof answer === 'string') res.status(200).type('application/json').send(answer);
          else res.json(answer);
        } catch (err) {
          if (err instanceof FixtureError) res.status(err.status).json({ error: err.message });
          else {
            process.stderr.write(`sealbox: ${req.method} ${req.path} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
            res.status(500).json({ error: 'internal error' });
          }
        }
      },
      () => res.destroy(),
    );
  };
  const named = (req: Request): string => checkSnapshotName(String(req.params.name));

  router.post('/_sealbox/reset', (req, res) =>
    run(req, res, () => {
      fixture.reset();
      return { status: 'ok' };
    }),
  );
  // moto's server mode: suites call it before or after every test. The same status and body as
  // moto (200, {"status": "ok"}); the Content-Type is JSON's, where moto's is Flask's default.
  // A middleware, not a route: Express answers OPTIONS itself for a path it has routes for, and
  // on S3 an OPTIONS to this path is a CORS preflight for a bucket's object, S3's to answer.
  router.use((req, res, next) => {
    if (req.method !== 'POST' || !isMotoReset(req.originalUrl)) return next();
    run(req, res, () => {
      fixture.reset();
      return MOTO_RESET_BODY;
    });
  });
  router.get('/_sealbox/snapshots', (_req, res) => {
    res.json(fixture.listSnapshots());
  });
  router.post('/_sealbox/snapshots/:name', (req, res) => run(req, res, () => fixture.saveSnapshot(named(req))));
  router.post('/_sealbox/snapshots/:name/restore', (req, res) =>
    run(req, res, () => {
      fixture.restoreSnapshot(named(req));
      return { status: 'ok' };
    }),
  );
  router.delete('/_sealbox/snapshots/:name', (req, res) => run(req, res, () => fixture.deleteSnapshot(named(req))));
}

/**
 * The fault rules: GET lists them, POST adds one (a rule object) or several (`{"rules": [...]}`),
 * DELETE /_sealbox/faults/ID removes one and DELETE /_sealbox/faults all. As reset: loopback
 * only unless allowed, and the admin request rule (a POST's body is application/json).
 */
function faultRoutes(router: Router, faults: FaultRules, hosts: readonly string[] | undefined, allowRemote: boolean): void {
  const admitted = (req: Request, res: Response, bodyless: boolean): boolean => {
    const path = (req.originalUrl ?? req.url).split('?')[0];
    if (!allowRemote && !isLoopback(req.socket.remoteAddress)) {
      req.resume();
      res.status(403).json({ error: `loopback: ${req.method} ${path} is accepted only from the loopback interface (start Sealbox with --allow-remote-admin to accept it from elsewhere)`, rule: 'loopback' });
      return false;
    }
    const refusal = checkAdminRequest(req, { hosts, changesState: true, bodyless });
    if (refusal) {
      sendAdminRefusal(req, res, refusal);
      return false;
    }
    return true;
  };
  router.get('/_sealbox/faults', (_req, res) => {
    res.json({ rules: faults.list() });
  });
  router.post('/_sealbox/faults', (req, res) => {
    if (!admitted(req, res, false)) return;
    readBody(req, 256 * 1024).then(
      (body) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          res.status(400).json({ error: 'the body must be a JSON fault rule, or {"rules": [...]}' });
          return;
        }
        const many = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'rules' in parsed;
        const inputs = many ? (parsed as { rules: unknown }).rules : [parsed];
        try {
          if (!Array.isArray(inputs)) throw new FaultRuleError('rules must be a list of fault rules');
          // All or nothing: every rule is checked before any is added.
          inputs.forEach((r, i) => {
            try {
              faults.check(r);
            } catch (err) {
              throw many && err instanceof FaultRuleError ? new FaultRuleError(`rules[${i}]: ${err.message}`) : err;
            }
          });
          const added = inputs.map((r) => faults.add(r));
          res.status(201).json(many ? { rules: added } : added[0]);
        } catch (err) {
          if (err instanceof FaultRuleError) res.status(400).json({ error: err.message });
          else throw err;
        }
      },
      (err: unknown) => {
        res.status(400).json({ error: err instanceof BodyTooLargeError ? err.message : 'the body could not be read' });
      },
    );
  });
  router.delete('/_sealbox/faults', (req, res) => {
    if (!admitted(req, res, true)) return;
    req.resume();
    faults.clear();
    res.status(204).end();
  });
  router.delete('/_sealbox/faults/:id', (req, res) => {
    if (!admitted(req, res, true)) return;
    req.resume();
    if (faults.remove(String(req.params.id))) res.status(204).end();
    else res.status(404).json({ error: `there is no fault rule ${String(req.params.id).slice(0, 80)}` });
  });
}

/**
 * The request log and decision records (docs/debugging-access.md). Reads are GETs, as the other
 * read endpoints; the simulation is a JSON POST under the admin request rule (it decides nothing,
 * but takes a body, which only a page's preflighted request could send).
 */
function decisionRoutes(router: Router, requests: () => RequestLog, simulate: AdminOptions['simulate'], hosts: readonly string[] | undefined): void {
  // The request log names every caller, resource and condition value, and a decision record every
  // policy considered: unlike health and clock, a page must not read them. Without the Host rule a
  // page whose name was rebound to 127.0.0.1 reads them as its own origin (DNS rebinding); without
  // the Origin rule, a page of Sealbox's own origin (an HTML object S3 serves) could.
  const readable = (req: Request, res: Response): boolean => {
    const refusal = checkAdminRequest(req, { hosts, changesState: false });
    if (refusal) sendAdminRefusal(req, res, refusal);
    return refusal === undefined;
  };
  router.get('/_sealbox/requests', (req, res) => {
    if (!readable(req, res)) return;
    const log = requests();
    const rawLimit = req.query.limit;
    const limit = rawLimit === undefined ? 100 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1) {
      res.status(400).json({ error: 'InvalidInput', message: `limit must be a whole number >= 1; got ${JSON.stringify(String(rawLimit).slice(0, 40))}` });
      return;
    }
    const failed = req.query.failed === '1' || req.query.failed === 'true';
    res.json({ requests: log.list({ limit: Math.min(limit, log.capacity), failed }).map(requestSummary) });
  });
  router.get('/_sealbox/decisions/:id', (req, res) => {
    if (!readable(req, res)) return;
    const log = requests();
    const id = String(req.params.id);
    const record = log.get(id);
    if (!record) {
      res.status(404).json({ error: 'NotFound', message: `no request ${JSON.stringify(id.slice(0, 80))} among the last ${log.capacity} requests of this service (a reset clears them)` });
      return;
    }
    res.json(decisionsDocument(record));
  });
  router.post('/_sealbox/decisions/simulate', (req, res) => {
    const refusal = checkAdminRequest(req, { hosts, changesState: true });
    if (refusal) {
      sendAdminRefusal(req, res, refusal);
      return;
    }
    readBody(req, 64 * 1024).then(
      (body) => {
        let input: unknown;
        try {
          input = JSON.parse(body.toString('utf8'));
        } catch {
          res.status(400).json({ error: 'InvalidInput', message: 'the body must be JSON: {"service", "principal", "action", "resource", "context"?}' });
          return;
        }
        try {
          if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new AdminInputError(400, 'InvalidInput', 'the body must be a JSON object');
          if (!simulate) throw new AdminInputError(400, 'InvalidInput', 'this service cannot simulate requests');
          res.json(simulate(input as Record<string, unknown>));
        } catch (err) {
          if (err instanceof AdminInputError) res.status(err.status).json({ error: err.code, message: err.message });
          else {
            process.stderr.write(`sealbox: POST /_sealbox/decisions/simulate failed: ${err instanceof Error ? err.stack : String(err)}\n`);
            res.status(500).json({ error: 'InternalError', message: 'internal error' });
          }
        }
      },
      (err: unknown) => {
        res.status(400).json({ error: 'InvalidInput', message: err instanceof BodyTooLargeError ? err.message : 'the body could not be read' });
      },
    );
  });
}
