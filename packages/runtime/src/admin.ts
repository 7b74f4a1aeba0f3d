import express from 'express';
import type { Router } from 'express';
import type { VirtualClock } from './clock';
import { checkAdminRequest, sendAdminRefusal } from './admin-request';
import { BodyTooLargeError, readBody } from './http';

export interface AdminOptions {
  service: string;
  clock: VirtualClock;
  /** Extra fields for the health document (region, endpoints, ...). */
  health?: () => Record<string, unknown>;
  /** Host names accepted for requests that change state, besides Sealbox's own addresses (checkAdminRequest). */
  hosts?: readonly string[];
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
    // Answered once the advance has taken effect (at the next whole second of wall time).
    await options.clock.advance(advance);
    res.json(clockDocument());
  });

  return router;
}
