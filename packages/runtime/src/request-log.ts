/**
 * The recent requests of one service, with the authorization decisions each one made: what
 * `GET /_sealbox/requests`, `GET /_sealbox/decisions/<id>` and `sealbox explain` read. CloudTrail
 * keeps the error code and message of a refused call; the IAM policy simulator says which
 * statement decided. Sealbox holds both, for every request.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html
 *
 * On the request path a record holds only what the request had anyway (references to the policy
 * texts, the context keys object, the outcome and the deciding reason code); a decision's full
 * explanation is computed by `explain()` when someone asks. The buffer is a fixed ring: the oldest
 * record is overwritten, nothing grows. Nothing secret is kept: no signature, no secret key, no
 * body.
 */

export type DecisionOutcome = 'Allow' | 'Deny';

/** Where a decision's reason comes from. */
export type DecisionSourceName = 'identity' | 'key-policy' | 'grant' | 'bucket-policy' | 'acl' | 'block-public-access' | 'transport' | 'signature';

export interface DecisionReason {
  /** `explicit-deny`, `no-allow`, `allowed`, `transport`, `signature`, `block-public-access`, `cross-account`. */
  code: string;
  /** In IAM's terms: "explicit deny in statement 'X' of the bucket policy". */
  text: string;
  source?: DecisionSourceName;
  /** The policy's name: `key policy`, `bucket policy`, an identity policy's name. */
  policy?: string;
  statement?: { index: number; sid?: string };
  grantId?: string;
}

export interface DecisionSourceTrace {
  source: DecisionSourceName;
  name: string;
  decision: 'Allow' | 'Deny' | 'NotApplicable';
  /** @sealbox/policy's StatementTrace for policies; empty for grants, ACLs and rules. */
  statements: unknown[];
  /** Anything else this source shows (a grant's constraints, an ACL's grants, a rule). */
  [more: string]: unknown;
}

/** One authorization, explained (the JSON of `GET /_sealbox/decisions/<id>`). */
export interface DecisionRecord {
  principal: { arn: string | null; accountId: string | null; type: string };
  action: string;
  resource: string;
  /** The condition keys as evaluated: name -> values. */
  context: Record<string, string[]>;
  outcome: DecisionOutcome;
  reason: DecisionReason;
  sources: DecisionSourceTrace[];
}

/** A decision as kept on the request path: its outcome now, its explanation when asked. */
export interface LazyDecision {
  readonly outcome: DecisionOutcome;
  /** About how many bytes it keeps that no other record shares (its condition key values). */
  readonly weight?: number;
  explain(): DecisionRecord;
}

export interface RequestRecord {
  requestId: string;
  service: 'kms' | 's3';
  /** On the service's (virtual) clock. */
  time: Date;
  operation: string;
  /** The authenticated caller's ARN; null when anonymous or not authenticated. */
  principal: string | null;
  /** The access key the request was signed with, verified or not (never the secret). */
  accessKeyId?: string;
  status: number;
  errorCode?: string;
  message?: string;
  decisions?: LazyDecision[];
  /** The KMS requests S3 made for this request (SSE-KMS), in order. */
  kmsRequestIds?: string[];
}

/** What the request list shows of a record. */
export interface RequestSummary {
  requestId: string;
  service: 'kms' | 's3';
  time: string;
  operation: string;
  principal: string | null;
  accessKeyId?: string;
  status: number;
  errorCode?: string;
  message?: string;
  decision?: DecisionOutcome;
  kmsRequestIds?: string[];
}

export const DEFAULT_REQUEST_LOG_SIZE = 10_000;
/**
 * The most a request log keeps, about, in bytes of its own (condition key values, messages):
 * 10,000 records of requests with a 1 MB encryption context would otherwise hold 10 GB. Past it,
 * the oldest records go first, as when the log is full.
 */
export const DEFAULT_REQUEST_LOG_BYTES = 64 * 1024 * 1024;
/** What a record costs besides its decisions' weights: ids, time, operation, principal. */
const RECORD_OVERHEAD = 400;

/** About the bytes of a context's values (strings are counted at 2 bytes a character, the worst case). */
export function contextWeight(keys: Record<string, string | readonly string[] | undefined>): number {
  let n = 0;
  for (const k in keys) {
    const v = keys[k];
    n += 2 * k.length + 16;
    if (typeof v === 'string') n += 2 * v.length;
    else if (v !== undefined) for (const x of v) n += 2 * x.length + 16;
  }
  return n;
}

function recordWeight(record: RequestRecord): number {
  let n = RECORD_OVERHEAD + 2 * ((record.message?.length ?? 0) + (record.accessKeyId?.length ?? 0) + (record.principal?.length ?? 0));
  for (const d of record.decisions ?? []) n += d.weight ?? RECORD_OVERHEAD;
  return n;
}

/** The deciding outcome of a request: a Deny if any authorization denied, else Allow if any. */
export function requestDecision(record: RequestRecord): DecisionOutcome | undefined {
  const decisions = record.decisions;
  if (decisions === undefined || decisions.length === 0) return undefined;
  return decisions.some((d) => d.outcome === 'Deny') ? 'Deny' : 'Allow';
}

export function requestSummary(record: RequestRecord): RequestSummary {
  const summary: RequestSummary = {
    requestId: record.requestId,
    service: record.service,
    time: record.time.toISOString(),
    operation: record.operation,
    principal: record.principal,
    status: record.status,
  };
  if (record.accessKeyId !== undefined) summary.accessKeyId = record.accessKeyId;
  if (record.errorCode !== undefined) summary.errorCode = record.errorCode;
  if (record.message !== undefined) summary.message = record.message;
  const decision = requestDecision(record);
  if (decision !== undefined) summary.decision = decision;
  if (record.kmsRequestIds !== undefined && record.kmsRequestIds.length > 0) summary.kmsRequestIds = [...record.kmsRequestIds];
  return summary;
}

/** The JSON of `GET /_sealbox/decisions/<id>`. */
export function decisionsDocument(record: RequestRecord): { requestId: string; service: 'kms' | 's3'; operation: string; decisions: DecisionRecord[]; request: RequestSummary; kmsRequestIds?: string[] } {
  const doc: ReturnType<typeof decisionsDocument> = {
    requestId: record.requestId,
    service: record.service,
    operation: record.operation,
    decisions: (record.decisions ?? []).map((d) => d.explain()),
    request: requestSummary(record),
  };
  if (record.kmsRequestIds !== undefined && record.kmsRequestIds.length > 0) doc.kmsRequestIds = [...record.kmsRequestIds];
  return doc;
}

/**
 * Characters a terminal acts on rather than prints: C0 controls (ESC starts a sequence that can
 * recolour, retitle, hide or rewrite the screen; CR and LF forge lines), DEL, C1 controls (U+009B
 * is a one-character CSI), the Unicode line separators and the bidirectional overrides (which
 * reorder what the operator reads).
 */
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from a request (an object key, a Sid, an encryption context value, a message quoting
 * them) made inert for a terminal: each unsafe character is written as `\xNN` or `\uNNNN`.
 */
export function terminalSafe(text: string): string {
  return text.replace(TERMINAL_UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** One line naming what denied a request, and how to see the rest (one line: nothing in it can start another). */
export function deniedLine(record: RequestRecord, decision: DecisionRecord): string {
  return terminalSafe(`sealbox: ${record.service} ${record.operation} ${record.requestId} denied: ${decision.reason.text} (sealbox explain ${record.requestId})`);
}

/** A fixed-size ring of the latest requests. */
export class RequestLog {
  private readonly slots: (RequestRecord | undefined)[];
  private readonly weights: Float64Array;
  private next = 0;
  private count = 0;
  private bytes = 0;

  /**
   * @param onDenied told of each request an authorization denied (sealbox start's one line on
   *   stderr); the decision is explained then, so only denied requests pay for it.
   */
  constructor(
    readonly capacity: number = DEFAULT_REQUEST_LOG_SIZE,
    private readonly onDenied?: (line: string, record: RequestRecord) => void,
    readonly maxBytes: number = DEFAULT_REQUEST_LOG_BYTES,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('a request log holds at least 1 request');
    this.slots = new Array<RequestRecord | undefined>(capacity);
    this.weights = new Float64Array(capacity);
  }

  /** About the bytes the kept records hold of their own. */
  get weight(): number {
    return this.bytes;
  }

  get size(): number {
    return this.count;
  }

  add(record: RequestRecord): void {
    if (this.onDenied !== undefined && record.decisions !== undefined) {
      const denied = record.decisions.find((d) => d.outcome === 'Deny');
      if (denied) this.onDenied(deniedLine(record, denied.explain()), record);
    }
    if (this.count === this.capacity) this.dropOldest();
    const weight = recordWeight(record);
    this.slots[this.next] = record;
    this.weights[this.next] = weight;
    this.bytes += weight;
    this.next = (this.next + 1) % this.capacity;
    this.count++;
    // The newest record stays, however heavy.
    while (this.bytes > this.maxBytes && this.count > 1) this.dropOldest();
  }

  private dropOldest(): void {
    const oldest = (this.next - this.count + this.capacity) % this.capacity;
    this.bytes -= this.weights[oldest]!;
    this.weights[oldest] = 0;
    this.slots[oldest] = undefined;
    this.count--;
  }

  /** Newest first. */
  *newest(): Generator<RequestRecord> {
    for (let i = 1; i <= this.count; i++) yield this.slots[(this.next - i + this.capacity) % this.capacity]!;
  }

  /** A scan, newest first: asked for by a person debugging, never on a request's path. */
  get(requestId: string): RequestRecord | undefined {
    for (const r of this.newest()) if (r.requestId === requestId) return r;
    return undefined;
  }

  list(options: { limit?: number; failed?: boolean } = {}): RequestRecord[] {
    const limit = options.limit ?? 100;
    const out: RequestRecord[] = [];
    for (const r of this.newest()) {
      if (out.length >= limit) break;
      if (options.failed && r.status < 400) continue;
      out.push(r);
    }
    return out;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.weights.fill(0);
    this.next = 0;
    this.count = 0;
    this.bytes = 0;
  }
}

/** The caller's type as IAM names it in aws:PrincipalType. */
export function principalType(arn: string | null): string {
  if (arn === null) return 'Anonymous';
  return /^arn:aws[\w-]*:iam::\d{12}:root$/.test(arn) ? 'Account' : /:assumed-role\//.test(arn) ? 'AssumedRole' : /:user\//.test(arn) ? 'User' : /:role\//.test(arn) ? 'Role' : 'Unknown';
}

/** Condition keys as evaluated: name -> values (absent keys left out). */
export function contextValues(keys: Record<string, string | readonly string[] | undefined>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(keys)) if (v !== undefined) out[k] = typeof v === 'string' ? [v] : [...v];
  return out;
}

/** What a reason needs of @sealbox/policy's StatementTrace. */
interface StatementLike {
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  applies: boolean;
  elements?: Array<{ element: string; matched?: string }>;
}

const ACCOUNT_ENTRY = /^AWS: (\d{12}|arn:aws[\w-]*:iam::\d{12}:root)$/;

/** A resource-policy statement whose Principal names the caller (or everyone), not just its account. */
function namesCallerItself(st: StatementLike): boolean {
  const principal = st.elements?.find((e) => e.element === 'Principal');
  return principal === undefined || principal.matched === undefined || !ACCOUNT_ENTRY.test(principal.matched);
}

/** What one policy's explanation says, as `explainPolicy` of @sealbox/policy returns it. */
export interface ExplainedPolicy {
  decision: 'Allow' | 'Deny' | 'NotApplicable';
  statements: unknown[];
}

/**
 * The identity side of a decision record, the same for KMS and S3: the account's root user (allowed
 * everything its account may), no identity side at all (an anonymous S3 request), or each identity
 * policy explained; with the first policy that denies and the first that allows.
 */
export function identitySources(side: 'root' | 'anonymous' | readonly { id?: string; explained: ExplainedPolicy }[]): {
  sources: DecisionSourceTrace[];
  deny?: DecisionSourceTrace;
  allow?: DecisionSourceTrace;
} {
  if (side === 'root') {
    const root: DecisionSourceTrace = { source: 'identity', name: "the account's root user", decision: 'Allow', statements: [], text: 'the root user may do anything its account may' };
    return { sources: [root], allow: root };
  }
  if (side === 'anonymous') return { sources: [{ source: 'identity', name: 'identity policies', decision: 'NotApplicable', statements: [], text: 'an anonymous request has no identity side' }] };
  if (side.length === 0) return { sources: [{ source: 'identity', name: 'identity policies', decision: 'NotApplicable', statements: [], text: 'the caller has no identity-based policies' }] };
  const sources = side.map(({ id, explained }, i): DecisionSourceTrace => ({ source: 'identity', name: id ? `identity policy '${id}'` : `identity policy ${i + 1}`, decision: explained.decision, statements: explained.statements }));
  return { sources, deny: sources.find((t) => t.decision === 'Deny'), allow: sources.find((t) => t.decision === 'Allow') };
}

/**
 * A reason naming the statement that decided a policy: its first applying statement of `effect`.
 * "explicit deny in statement 'X' of the bucket policy", "allowed by statement 'Y' of the key policy".
 */
export function statementReason(code: string, source: DecisionSourceName, policy: string, trace: DecisionSourceTrace | undefined, effect: 'Allow' | 'Deny', preferDirect = false): DecisionReason {
  const applying = trace ? (trace.statements as StatementLike[]).filter((s) => s.applies && s.effect === effect) : [];
  // An Allow that names the caller itself decides over one that only names its account (which
  // delegates to the account's IAM policies).
  const st = (preferDirect ? applying.find(namesCallerItself) : undefined) ?? applying[0];
  const what = effect === 'Deny' ? 'explicit deny in' : 'allowed by';
  const named = st ? (st.sid !== undefined ? `statement '${st.sid}'` : `statement ${st.index}`) : undefined;
  // Sources named with their article already ("the account's root user") keep it.
  const the = policy.startsWith('the ') ? policy : `the ${policy}`;
  const reason: DecisionReason = { code, text: named ? `${what} ${named} of ${the}` : `${what} ${the}`, source, policy };
  if (st) reason.statement = st.sid !== undefined ? { index: st.index, sid: st.sid } : { index: st.index };
  return reason;
}

/**
 * A decision made by a rule rather than a policy (a SigV4 failure, the SSE-KMS transport rule):
 * small, and the same object explains it.
 */
export function ruleDecision(record: Omit<DecisionRecord, 'outcome'> & { outcome?: DecisionOutcome }): LazyDecision {
  const full: DecisionRecord = { ...record, outcome: record.outcome ?? 'Deny' };
  return { outcome: full.outcome, explain: () => full };
}

/** A request refused before any policy was read: its SigV4 signature did not verify. */
export function signatureDecision(action: string, resource: string, text: string): LazyDecision {
  return ruleDecision({
    principal: { arn: null, accountId: null, type: 'Unauthenticated' },
    action,
    resource,
    context: {},
    reason: { code: 'signature', text: `the request was refused before authorization: ${text}`, source: 'signature' },
    sources: [{ source: 'signature', name: 'SigV4 verification', decision: 'Deny', statements: [], text }],
  });
}

/** A simulate request refused or naming nothing: answered `{"error": code, "message"}`. */
export class AdminInputError extends Error {
  constructor(
    readonly status: 400 | 404,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
