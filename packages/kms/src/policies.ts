import { jacksonPretty } from './trail/jackson';

/**
 * The key policy KMS gives a key created without one: it enables IAM policies of the account.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 */
export function defaultKeyPolicy(accountId: string): string {
  return jacksonPretty({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });
}

/** What AWS says of each service's AWS managed key, and the Id of its key policy. */
export const AWS_MANAGED_KEYS: Record<string, { name: string; description: string; policyId: string; viaService: string }> = {
  s3: { name: 'S3', description: 'Default key that protects my S3 objects when no other key is defined', policyId: 'auto-s3-2', viaService: 's3' },
  ebs: { name: 'EBS', description: 'Default key that protects my EBS volumes when no other key is defined', policyId: 'auto-ebs-2', viaService: 'ec2' },
  rds: { name: 'RDS', description: 'Default key that protects my RDS database volumes when no other key is defined', policyId: 'auto-rds-2', viaService: 'rds' },
  lambda: { name: 'Lambda', description: 'Default key that protects my Lambda functions when no other key is defined', policyId: 'auto-awslambda', viaService: 'lambda' },
  secretsmanager: {
    name: 'Secrets Manager',
    description: 'Default key that protects my Secrets Manager data when no other key is defined',
    policyId: 'auto-secretsmanager-2',
    viaService: 'secretsmanager',
  },
  ssm: { name: 'SSM', description: 'Default key that protects my SSM parameters when no other key is defined', policyId: 'auto-ssm-1', viaService: 'ssm' },
  sns: { name: 'SNS', description: 'Default key that protects my SNS data when no other key is defined', policyId: 'auto-sns-1', viaService: 'sns' },
  sqs: { name: 'SQS', description: 'Default key that protects my SQS messages when no other key is defined', policyId: 'auto-sqs-1', viaService: 'sqs' },
  dynamodb: { name: 'DynamoDB', description: 'Default key that protects my DynamoDB data when no other key is defined', policyId: 'auto-dynamodb-1', viaService: 'dynamodb' },
  backup: { name: 'Backup', description: 'Default key that protects my Backup data when no other key is defined', policyId: 'auto-backup-1', viaService: 'backup' },
  elasticfilesystem: {
    name: 'EFS',
    description: 'Default key that protects my EFS filesystems when no other key is defined',
    policyId: 'auto-elasticfilesystem-1',
    viaService: 'elasticfilesystem',
  },
  kafka: { name: 'Kafka', description: 'Default key that protects my Kafka data when no other key is defined', policyId: 'auto-kafka-1', viaService: 'kafka' },
};

/**
 * The policy of an AWS managed key: usable through its service by principals of the account;
 * metadata readable by the account directly. (Enforced in a later version.)
 */
export function awsManagedKeyPolicy(service: string, accountId: string, region: string): string {
  const info = AWS_MANAGED_KEYS[service]!;
  return jacksonPretty({
    Version: '2012-10-17',
    Id: info.policyId,
    Statement: [
      {
        Sid: `Allow access through ${info.name} for all principals in the account that are authorized to use ${info.name}`,
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': accountId, 'kms:ViaService': `${info.viaService}.${region}.amazonaws.com` } },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
        Resource: '*',
      },
    ],
  });
}
