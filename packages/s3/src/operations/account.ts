import type { S3Request, S3Response } from '../context';
import { parsePublicAccessBlock } from '../documents';
import { AccessDenied, S3Error } from '../errors';
import { header, readSmallBody } from '../http-util';
import { el, XML_DECLARATION } from '../xml';

/**
 * Account-level Block Public Access, the S3 Control API's Get/Put/DeletePublicAccessBlock
 * (`/v20180820/configuration/publicAccessBlock`, the account in `x-amz-account-id`), served on the
 * S3 port. Its settings apply to every bucket of the account beside each bucket's own.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_PutPublicAccessBlock.html
 */
const CONTROL_NS = 'http://awss3control.amazonaws.com/doc/2018-08-20/';

/** The account a request names, which must be the caller's own. */
function account(req: S3Request): string {
  const id = header(req.headers, 'x-amz-account-id');
  if (id === undefined || !/^\d{12}$/.test(id)) {
    throw new S3Error('InvalidRequest', 400, 'Account ID must be a 12-digit number', [['ArgumentName', 'x-amz-account-id']]);
  }
  // Only the account itself manages its settings.
  if (!req.credentials || req.credentials.accountId !== id) throw new AccessDenied();
  return id;
}

export function getAccountPublicAccessBlock(req: S3Request): S3Response {
  const pab = req.state.meta.getAccount(account(req)).publicAccessBlock;
  if (!pab) throw new S3Error('NoSuchPublicAccessBlockConfiguration', 404, 'The public access block configuration was not found', [['AccountId', header(req.headers, 'x-amz-account-id')!]]);
  return {
    headers: { 'Content-Type': 'application/xml' },
    body:
      XML_DECLARATION +
      `<PublicAccessBlockConfiguration xmlns="${CONTROL_NS}">` +
      [el('BlockPublicAcls', pab.blockPublicAcls), el('IgnorePublicAcls', pab.ignorePublicAcls), el('BlockPublicPolicy', pab.blockPublicPolicy), el('RestrictPublicBuckets', pab.restrictPublicBuckets)].join('') +
      '</PublicAccessBlockConfiguration>',
  };
}

export async function putAccountPublicAccessBlock(req: S3Request): Promise<S3Response> {
  const id = account(req);
  const config = parsePublicAccessBlock(await readSmallBody(req.body));
  // Read after the body: a change made while it arrived is not undone.
  const settings = req.state.meta.getAccount(id);
  settings.publicAccessBlock = { ...config };
  req.state.meta.putAccount(id, settings);
  return {};
}

export function deleteAccountPublicAccessBlock(req: S3Request): S3Response {
  const id = account(req);
  const settings = req.state.meta.getAccount(id);
  delete settings.publicAccessBlock;
  req.state.meta.putAccount(id, settings);
  return { status: 204 };
}
