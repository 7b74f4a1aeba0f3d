/**
 * Fault injection: rules, added and removed at run time, that make chosen calls fail the way AWS
 * fails in production (an AWS error with AWS's status and message, a slow answer, a dropped
 * connection). One set of rules serves a whole sandbox: either port's `/_sealbox/faults` adds
 * rules for either service, and S3's own calls to KMS meet the KMS rules.
 *
 * What each service's errors are (which codes an operation may return, with what status and
 * message) is the service's to say: a rule is checked against its service's catalog when added.
 */
import { mulberry32 } from './random';
export type FaultService = 'kms' | 's3';

/** What a matching call gets instead of (or before) its answer. */
export type FaultAction =
  | { kind: 'error'; code: string; status: number; message: string }
  | { kind: 'latency'; ms: number }
  | { kind: 'drop' };

/** A rule as a client sends it (POST /_sealbox/faults, the seed file, the fixture). */
export interface FaultRuleInput {
  service: FaultService;
  /** An operation name (`GenerateDataKey`, `PutObject`), or `*` / absent for all. */
  operation?: string;
  /** KMS: the key a request uses (key id or key ARN). S3: the object key, exactly. */
  key?: string;
  /** KMS: requests naming this alias (name or ARN), or using the key it points to. */
  alias?: string;
  /** S3: the bucket. */
  bucket?: string;
  /** S3: object keys starting with this. */
  prefix?: string;
  /** An AWS error code the operation can return; `status` and `message` default to AWS's. */
  error?: string;
  status?: number;
  message?: string;
  /** Answer after this many milliseconds (alone: the call then proceeds normally). */
  latencyMs?: number;
  /** Close the connection without an answer. */
  drop?: boolean;
  /** Fire this many times, then the rule is gone. */
  count?: number;
  /** Fire on this fraction of matching calls (0 to 1], drawn from a seeded generator. */
  probability?: number;
  /** The generator's seed (default 1): the same seed and calls give the same failures. */
  seed?: number;
}

/** A rule as it is kept and listed (GET /_sealbox/faults). */
export interface FaultRule {
  id: string;
  service: FaultService;
  operation: string;
  key?: string;
  alias?: string;
  bucket?: string;
  prefix?: string;
  action: FaultAction;
  /** With an error: the wait before it (a slow failure, as a timeout is). */
  latencyMs?: number;
  /** How many more times it fires; absent: until removed. */
  remaining?: number;
  probability?: number;
  seed?: number;
  /** How many calls it has failed (or delayed, or dropped) so far. */
  fired: number;
}

/** The call being dispatched, as a rule sees it. */
export interface FaultTarget {
  service: FaultService;
  operation: string;
  /** KMS: every name of the key the request uses (id, ARN). */
  keyNames?: readonly string[];
  /** KMS: every name of the aliases the request names or whose key it uses. */
  aliasNames?: readonly string[];
  bucket?: string;
  objectKey?: string;
}

/** A fault that fired: what to do, and the rule to name in the event log. */
export interface FiredFault {
  ruleId: string;
  action: FaultAction;
}

/**
 * A service's errors, for rules: the operations it has, and AWS's status and message for an
 * error an operation can return (a string: why the code is refused).
 */
export interface FaultErrorCatalog {
  operations: readonly string[];
  error(operation: string | undefined, code: string): { status: number; message: string } | string;
}

/** A rule refused, with the reason. */
export class FaultRuleError extends Error {}

const FILTERS: Record<FaultService, readonly string[]> = { kms: ['key', 'alias'], s3: ['bucket', 'key', 'prefix'] };
const KNOWN = new Set(['service', 'operation', 'key', 'alias', 'bucket', 'prefix', 'error', 'status', 'message', 'latencyMs', 'drop', 'count', 'probability', 'seed']);
const MAX_RULES = 1000;
const MAX_LATENCY_MS = 10 * 60 * 1000;

/** Seeded, so a failing run can be repeated exactly. */
const generator = mulberry32;

interface Held {
  rule: FaultRule;
  draw?: () => number;
}

/** A call waiting out a rule's latency: ended early when the rule goes. */
interface Hold {
  ruleId: string;
  release(): void;
}

/** The rules of one sandbox. */
export class FaultRules {
  private readonly held: Held[] = [];
  /** Calls waiting out a latency; removing their rule (or a reset, or stop) ends the wait. */
  private readonly holds = new Set<Hold>();
  private next = 1;

  constructor(private readonly catalogs: Partial<Record<FaultService, FaultErrorCatalog>>) {}

  /** Adds a rule, checked completely first; throws FaultRuleError. */
  add(input: unknown): FaultRule {
    const rule = this.check(input);
    if (this.held.length >= MAX_RULES) throw new FaultRuleError(`at most ${MAX_RULES} fault rules; remove some first (DELETE /_sealbox/faults)`);
    rule.id = `f${this.next++}`;
    this.held.push({ rule, draw: rule.probability === undefined ? undefined : generator(rule.seed ?? 1) });
    return { ...rule };
  }

  /** Checks a rule without adding it (a seed file is checked before anything starts). */
  check(input: unknown): FaultRule {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new FaultRuleError('a fault rule is a JSON object');
    const r = input as Record<string, unknown>;
    for (const name of Object.keys(r)) if (!KNOWN.has(name)) throw new FaultRuleError(`unknown field '${name}' in a fault rule (known: ${[...KNOWN].join(', ')})`);
    const service = r.service;
    if (service !== 'kms' && service !== 's3') throw new FaultRuleError(`service must be kms or s3, got ${JSON.stringify(service)}`);
    const catalog = this.catalogs[service];
    if (!catalog) throw new FaultRuleError(`this Sealbox does not serve ${service}`);
    const str = (name: string): string | undefined => {
      const v = r[name];
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || v === '' || v.length > 1024) throw new FaultRuleError(`${name} must be a non-empty string`);
      return v;
    };
    const operation = str('operation') ?? '*';
    if (operation !== '*' && !catalog.operations.includes(operation)) throw new FaultRuleError(`${service} has no operation ${JSON.stringify(operation)}`);
    for (const name of ['key', 'alias', 'bucket', 'prefix']) {
      if (r[name] !== undefined && !FILTERS[service].includes(name)) throw new FaultRuleError(`${name} is not a filter for ${service} rules (${FILTERS[service].join(', ')} are)`);
    }
    const num = (name: string, min: number, max: number, whole: boolean): number | undefined => {
      const v = r[name];
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (whole && !Number.isInteger(v))) {
        throw new FaultRuleError(`${name} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`);
      }
      return v;
    };
    const error = str('error');
    const latencyMs = num('latencyMs', 0, MAX_LATENCY_MS, true);
    const drop = r.drop;
    if (drop !== undefined && typeof drop !== 'boolean') throw new FaultRuleError('drop must be true or false');
    if (error !== undefined && drop) throw new FaultRuleError('a rule either answers with an error or drops the connection, not both');
    if (error === undefined && !drop && latencyMs === undefined) throw new FaultRuleError('a fault rule needs error, latencyMs or drop: true');
    let action: FaultAction;
    if (error !== undefined) {
      const found = catalog.error(operation === '*' ? undefined : operation, error);
      if (typeof found === 'string') throw new FaultRuleError(found);
      const status = num('status', 400, 599, true) ?? found.status;
      action = { kind: 'error', code: error, status, message: str('message') ?? found.message };
    } else if (drop) {
      action = { kind: 'drop' };
    } else {
      action = { kind: 'latency', ms: latencyMs! };
    }
    if (action.kind !== 'error' && (r.status !== undefined || r.message !== undefined)) throw new FaultRuleError('status and message go with error');
    const count = num('count', 1, 1e9, true);
    const probability = num('probability', 0, 1, false);
    if (probability === 0) throw new FaultRuleError('probability must be above 0 (a rule that never fires: remove it instead)');
    const seed = num('seed', 0, 0xffffffff, true);
    if (seed !== undefined && probability === undefined) throw new FaultRuleError('seed goes with probability');
    const rule: FaultRule = { id: '', service, operation, action, fired: 0 };
    for (const name of ['key', 'alias', 'bucket', 'prefix'] as const) {
      const v = str(name);
      if (v !== undefined) rule[name] = v;
    }
    if (action.kind === 'error' && latencyMs !== undefined) rule.latencyMs = latencyMs;
    if (count !== undefined) rule.remaining = count;
    if (probability !== undefined) rule.probability = probability;
    if (seed !== undefined) rule.seed = seed;
    return rule;
  }

  list(): FaultRule[] {
    return this.held.map((h) => ({ ...h.rule }));
  }

  /** Removes one rule; false if there is none of that id. */
  remove(id: string): boolean {
    const i = this.held.findIndex((h) => h.rule.id === id);
    if (i < 0) return false;
    this.held.splice(i, 1);
    this.release(id);
    return true;
  }

  /**
   * Removes every rule (DELETE /_sealbox/faults, a reset, stop); ids start again at f1. Calls
   * still waiting out a rule's latency go on at once: a held call would otherwise keep the state a
   * reset dropped (and, after stop, the process) alive for up to the rule's 10 minutes.
   */
  clear(): void {
    this.held.length = 0;
    this.next = 1;
    this.release();
  }

  /**
   * Waits `ms` of wall time for a call that rule `ruleId` delays: injected latency is real time a
   * client waits, not virtual time. Ends early when the rule is removed or the rules cleared.
   */
  delay(ruleId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const hold: Hold = {
        ruleId,
        release: () => {
          clearTimeout(timer);
          this.holds.delete(hold);
          resolve();
        },
      };
      const timer = setTimeout(hold.release, ms);
      this.holds.add(hold);
    });
  }

  private release(ruleId?: string): void {
    for (const hold of [...this.holds]) if (ruleId === undefined || hold.ruleId === ruleId) hold.release();
  }

  get size(): number {
    return this.held.length;
  }

  /**
   * The fault for this call, if a rule fires: the first matching rule in the order they were
   * added that fires (a probability rule that does not fire lets the next one try).
   */
  match(target: FaultTarget): (FiredFault & { latencyMs?: number }) | undefined {
    for (let i = 0; i < this.held.length; i++) {
      const { rule, draw } = this.held[i]!;
      if (!matches(rule, target)) continue;
      if (draw && !(draw() < rule.probability!)) continue;
      rule.fired++;
      if (rule.remaining !== undefined && --rule.remaining <= 0) this.held.splice(i, 1);
      return { ruleId: rule.id, action: rule.action, ...(rule.latencyMs !== undefined ? { latencyMs: rule.latencyMs } : {}) };
    }
    return undefined;
  }
}

function matches(rule: FaultRule, t: FaultTarget): boolean {
  if (rule.service !== t.service) return false;
  if (rule.operation !== '*' && rule.operation !== t.operation) return false;
  if (rule.service === 'kms') {
    if (rule.key !== undefined && !(t.keyNames ?? []).some((n) => n.toLowerCase() === rule.key!.toLowerCase())) return false;
    if (rule.alias !== undefined && !(t.aliasNames ?? []).includes(rule.alias)) return false;
    return true;
  }
  if (rule.bucket !== undefined && rule.bucket !== t.bucket) return false;
  if (rule.key !== undefined && rule.key !== t.objectKey) return false;
  if (rule.prefix !== undefined && !(t.objectKey ?? '').startsWith(rule.prefix)) return false;
  return true;
}

/** Waits `ms` of wall time: injected latency is real time a client waits, not virtual time. */
export function faultDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
