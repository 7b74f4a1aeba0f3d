import { RequestLog, requestSummary, ruleDecision, statementReason, type RequestRecord } from '../src';

const record = (n: number, status = 200): RequestRecord => ({ requestId: `r${n}`, service: 'kms', time: new Date(n * 1000), operation: 'Encrypt', principal: null, status });

describe('RequestLog', () => {
  it('keeps the last N requests, newest first, and forgets the oldest', () => {
    const log = new RequestLog(3);
    for (let n = 1; n <= 7; n++) log.add(record(n));
    expect(log.size).toBe(3);
    expect(log.list().map((r) => r.requestId)).toEqual(['r7', 'r6', 'r5']);
    expect(log.get('r4')).toBeUndefined();
    expect(log.get('r5')?.requestId).toBe('r5');
  });

  it('filters failures and limits; clear empties it', () => {
    const log = new RequestLog(10);
    [200, 403, 200, 400, 500].forEach((status, i) => log.add(record(i, status)));
    expect(log.list({ failed: true }).map((r) => r.status)).toEqual([500, 400, 403]);
    expect(log.list({ limit: 2 }).map((r) => r.requestId)).toEqual(['r4', 'r3']);
    log.clear();
    expect(log.list()).toEqual([]);
    expect(log.get('r1')).toBeUndefined();
  });

  it('summarizes a request with the deciding outcome: Deny if any decision denied', () => {
    const allow = ruleDecision({ outcome: 'Allow', principal: { arn: null, accountId: null, type: 'Anonymous' }, action: 'a', resource: '*', context: {}, reason: { code: 'allowed', text: '' }, sources: [] });
    const deny = ruleDecision({ principal: { arn: null, accountId: null, type: 'Anonymous' }, action: 'a', resource: '*', context: {}, reason: { code: 'transport', text: '' }, sources: [] });
    expect(requestSummary({ ...record(1), decisions: [allow, deny] }).decision).toBe('Deny');
    expect(requestSummary({ ...record(1), decisions: [allow] }).decision).toBe('Allow');
    expect(requestSummary({ ...record(1), decisions: [] })).not.toHaveProperty('decision');
  });

  it('tells onDenied of a denied request only, with one line naming the reason', () => {
    const lines: string[] = [];
    const log = new RequestLog(2, (line) => lines.push(line));
    const deny = ruleDecision({ principal: { arn: null, accountId: null, type: 'Anonymous' }, action: 'a', resource: '*', context: {}, reason: { code: 'transport', text: 'SSE-KMS requires TLS' }, sources: [] });
    log.add(record(1));
    log.add({ ...record(2, 400), decisions: [deny] });
    expect(lines).toEqual(['sealbox: kms Encrypt r2 denied: SSE-KMS requires TLS (sealbox explain r2)']);
  });
});

describe('statementReason', () => {
  it("names a policy with its article once: 'allowed by the key policy', 'allowed by the account's root user'", () => {
    expect(statementReason('allowed', 'key-policy', 'key policy', undefined, 'Allow').text).toBe('allowed by the key policy');
    expect(statementReason('allowed', 'identity', "the account's root user", undefined, 'Allow').text).toBe("allowed by the account's root user");
  });
});
