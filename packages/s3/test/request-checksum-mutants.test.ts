// requestChecksum() (packages/s3/src/request-checksum.ts) beyond request-checksum.test.ts: cases
// written for the mutation run (`npm run mutate -- s3`).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
import { S3Error } from '../src/errors';
import { requestChecksum } from '../src/request-checksum';

describe('requestChecksum: the trailer must be a x-amz-checksum- header', () => {
  it.each(['x-amz-checksum_crc32', 'x-amz-meta-abcdcrc32'])('%s is refused, though its last characters name an algorithm', (trailer) => {
    let error: unknown;
    try {
      requestChecksum({ 'x-amz-trailer': trailer });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(S3Error);
    expect({ code: (error as S3Error).code, status: (error as S3Error).status, message: (error as S3Error).message }).toEqual({
      code: 'InvalidRequest', status: 400, message: 'The value specified in the x-amz-trailer header is not supported',
    });
  });
});
