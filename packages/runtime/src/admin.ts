import express from 'express';
import type { Router } from 'express';
import type { VirtualClock } from './clock';
import { BodyTooLargeError, readBody } from './http';

export interface AdminOptions {
  service: string;
  clock: VirtualClock;
  /** Extra fields for the health document (region, endpoints, ...). */
  health?: () => Record<string, unknown>;
}

/**
 * Sealbox's own endpoints, under `/_sealbox/` so they never collide with an AWS path
 * (no bucket can be named `_sealbox`: underscores are not allowed in bucket names).
 */
export function adminRouter(options: AdminOptions): Router {
  const router = express.Router();
  const clockDocument = () => ({ now: options.clock.now().toISOString(), offsetSeconds: options.clock.offsetSeconds });

  router.get('/_sealbox/health', (_req, res) => {
    res.json({ status: 'ok', service: options.service, ...options.health?.() });
  });

  router.get('/_sealbox/clock', (_req, res) => {
    res.json(clockDocument());
  });

  router.post('/_sealbox/clock', async (req, res) => {
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
    options.clock.advance(advance);
    res.json(clockDocument());
  });

  return router;
}
