import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { decisionsDocument, terminalSafe, type DecisionRecord, type DecisionSourceTrace, type RequestLog, type RequestSummary } from '@sealbox/runtime';

/** A request's decision records, as `GET /_sealbox/decisions/<id>` answers them. */
export interface DecisionsDocument {
  requestId: string;
  service: 'kms' | 's3';
  operation: string;
  decisions: DecisionRecord[];
  /** The request as the request log lists it. */
  request?: RequestSummary;
  kmsRequestIds?: string[];
}

/** What `sealbox explain` and a sandbox's explain() show: the request, its decisions, and the KMS calls an S3 request made. */
export interface Explanation extends DecisionsDocument {
  /** The KMS requests S3 made for this request, with their decisions (when this KMS has them). */
  kmsRequests?: Explanation[];
}

/** Finds a request id in the services' logs (in process). */
export function explainRequest(logs: { kms?: RequestLog; s3?: RequestLog }, requestId: string): Explanation | undefined {
  for (const log of [logs.s3, logs.kms]) {
    const record = log?.get(requestId);
    if (!record) continue;
    const explanation: Explanation = decisionsDocument(record);
    const linked = (record.kmsRequestIds ?? []).map((id) => (logs.kms ? explainRequest({ kms: logs.kms }, id) : undefined)).filter((e): e is Explanation => e !== undefined);
    if (linked.length > 0) explanation.kmsRequests = linked;
    return explanation;
  }
  return undefined;
}

interface StatementLike {
  index: number;
  sid?: string;
  effect: string;
  applies: boolean;
  text: string;
  elements?: Array<{ text: string; satisfied: boolean }>;
  conditions?: Array<{ text: string; result: boolean }>;
}

const statementName = (st: StatementLike) => (st.sid !== undefined ? `'${st.sid}'` : `#${st.index}`);

function sourceLines(source: DecisionSourceTrace, indent: string): string[] {
  const lines = [`${indent}${source.name} (${source.source}): ${source.decision}${typeof source.text === 'string' ? ` - ${source.text}` : ''}`];
  for (const st of source.statements as StatementLike[]) {
    lines.push(`${indent}  ${st.applies ? '*' : '-'} statement ${statementName(st)} ${st.effect}: ${st.text}`);
    for (const c of st.conditions ?? []) lines.push(`${indent}      ${c.result ? 'ok  ' : 'FAIL'} ${c.text}`);
  }
  return lines;
}

/** The deciding statement of a decision, for the first lines of the text. */
function decidingLines(d: DecisionRecord, indent: string): string[] {
  const lines: string[] = [];
  const source = d.reason.statement ? d.sources.find((s) => s.source === d.reason.source && (d.reason.policy === undefined || s.name === d.reason.policy)) : undefined;
  const st = source ? (source.statements as StatementLike[]).find((s) => s.index === d.reason.statement!.index) : undefined;
  if (st) {
    for (const e of st.elements ?? []) lines.push(`${indent}    ${e.text}`);
    for (const c of st.conditions ?? []) lines.push(`${indent}    ${c.text}`);
  }
  return lines;
}

/** The terminal form: per decision the outcome and its reason, the deciding statement, then each source. */
export function formatExplanation(e: Explanation, indent = ''): string {
  const lines: string[] = [];
  const r = e.request;
  lines.push(`${indent}${e.service} ${e.operation} ${e.requestId}${r ? ` -> ${r.status}${r.errorCode ? ` ${r.errorCode}` : ''}` : ''}`);
  if (r?.message) lines.push(`${indent}  ${r.message}`);
  if (r) lines.push(`${indent}  principal: ${r.principal ?? 'anonymous'}, at ${r.time}`);
  if (e.decisions.length === 0) lines.push(`${indent}  no authorization was made (refused or answered before it)`);
  for (const d of e.decisions) {
    lines.push(`${indent}  ${d.outcome.toUpperCase()} ${d.action} on ${d.resource}`);
    lines.push(`${indent}    ${d.reason.text}`);
    lines.push(...decidingLines(d, indent));
    lines.push(`${indent}    considered:`);
    for (const s of d.sources) lines.push(...sourceLines(s, `${indent}      `));
  }
  for (const k of e.kmsRequests ?? []) {
    lines.push(`${indent}  via KMS:`);
    lines.push(...formatExplanation(k, `${indent}    `).split('\n'));
  }
  if (e.kmsRequestIds && !e.kmsRequests) lines.push(`${indent}  KMS requests made for it: ${e.kmsRequestIds.join(', ')}`);
  // Much of the text is the request's own (object keys, condition values, messages quoting them)
  // or a policy writer's (Sids): no line may carry a terminal escape or start a forged line.
  return lines.map(terminalSafe).join('\n');
}

/** GETs a JSON document from an admin endpoint (https with the given CA); undefined on a 404. */
export function getJson(url: string, ca?: string): Promise<unknown> {
  const target = new URL(url);
  return new Promise((resolvePromise, reject) => {
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'GET', ...(ca && target.protocol === 'https:' ? { ca } : {}), timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === 404) return resolvePromise(undefined);
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          const parsed: unknown = JSON.parse(text);
          if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode}: ${text.slice(0, 200)}`));
          else resolvePromise(parsed);
        } catch {
          reject(new Error(`${url} answered ${res.statusCode} with something that is not JSON: is it a Sealbox?`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer within 10 s`)));
    req.on('error', (err) => reject(new Error(`cannot reach ${target.origin}: ${err.message}`)));
    req.end();
  });
}

/**
 * `sealbox explain`'s lookup over HTTP: the id in the service whose ids look like it first
 * (KMS's are UUIDs, S3's 16 hex digits), then the other; an S3 request's KMS calls from the KMS.
 */
export async function fetchExplanation(requestId: string, endpoints: { kms?: string; s3?: string }, ca?: string): Promise<Explanation | undefined> {
  const path = `/_sealbox/decisions/${encodeURIComponent(requestId)}`;
  const order = /^[0-9a-f]{8}-/i.test(requestId) ? [endpoints.kms, endpoints.s3] : [endpoints.s3, endpoints.kms];
  for (const base of order) {
    if (base === undefined) continue;
    const doc = (await getJson(new URL(path, base).toString(), ca)) as Explanation | undefined;
    if (!doc) continue;
    if (doc.kmsRequestIds && endpoints.kms) {
      const linked: Explanation[] = [];
      for (const id of doc.kmsRequestIds) {
        const k = (await getJson(new URL(`/_sealbox/decisions/${encodeURIComponent(id)}`, endpoints.kms).toString(), ca)) as Explanation | undefined;
        if (k) linked.push(k);
      }
      if (linked.length > 0) doc.kmsRequests = linked;
    }
    return doc;
  }
  return undefined;
}
