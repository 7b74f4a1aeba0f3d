/** What `sealbox seed --example` prints: a commented seed using every field. */
export const SEED_EXAMPLE = `# A Sealbox seed file (YAML; JSON works too). Applied by \`sealbox start --seed FILE\` or
# \`sealbox seed FILE\` against a running Sealbox. Applying is idempotent: whatever exists already
# (an account's key id, an alias, a grant of the same name, a bucket, an object) is skipped and
# reported, never overwritten. A bad seed fails before anything starts, naming the line.

# Accounts, IAM users and roles allowed to call Sealbox (besides test/test, root of 000000000000).
accounts:
  - id: "111122223333"                # quote account ids
    root: { accessKeyId: AKIAROOT1111, secretAccessKey: root-secret }
    users:
      - name: alice
        path: /dev/                   # optional, default /
        accessKeyId: AKIAALICE
        secretAccessKey: alice-secret
        policies:                     # identity-based policies (mappings or JSON strings)
          - Version: "2012-10-17"
            Statement:
              - { Effect: Allow, Action: ["kms:*", "s3:*"], Resource: "*" }
    roles:
      - name: app
        sessionName: app-session      # optional, default the role name
        accessKeyId: ASIAAPP
        secretAccessKey: app-secret
        sessionToken: app-token       # optional
        policies: []

# KMS keys, with fixed ids. With fixed material, a ciphertext made by one Sealbox decrypts in
# any other seeded with this file. Without material, Sealbox generates it: such a key's
# ciphertexts only open in the Sealbox that made them.
keys:
  - id: 0e1f3c4d-8a7b-4c2d-9e10-3f2a1b0c9d8e   # a UUID (or mrk- and 32 hex digits: multi-Region)
    account: "000000000000"           # default 000000000000
    region: us-east-1                 # default us-east-1
    spec: SYMMETRIC_DEFAULT           # default; any KMS key spec (RSA_2048, ECC_NIST_P256, HMAC_256, ...)
    usage: ENCRYPT_DECRYPT            # default for SYMMETRIC_DEFAULT; required when a spec has several
    description: app data key
    enabled: true                     # false: created, then disabled
    tags: { team: payments, env: dev }
    policy:                           # optional key policy (mapping or JSON string), checked as PutKeyPolicy checks it
      Version: "2012-10-17"
      Statement:
        - Sid: Enable IAM policies
          Effect: Allow
          Principal: { AWS: "arn:aws:iam::000000000000:root" }
          Action: "kms:*"
          Resource: "*"
    rotation: { enabled: true, periodDays: 365 }   # automatic rotation (90 to 2560 days)
    origin: AWS_KMS                   # or EXTERNAL (imported material; never rotates automatically)
    # Material versions, oldest first: the last is current, earlier ones are its rotation history
    # (they still decrypt). Hex or base64 bytes for symmetric and HMAC keys (hex: or base64: to
    # be explicit); a PEM private key (PKCS #8) for asymmetric keys.
    material:
      - 15781d237857841ad182290c689b593e3516a80a85b61fcc1d39ae2b95fa1787
      - base64:GXrWgL7oNPA+uW+PfktnOuyJ9RPGtOiNJR0DDIm3Crw=
    aliases: [alias/app-data, alias/app-data-current]
    grants:
      - name: app-decrypt             # a grant of the same name on the key is not created again
        grantee: arn:aws:iam::000000000000:role/app
        operations: [Decrypt, Encrypt, GenerateDataKey]
        retiringPrincipal: arn:aws:iam::000000000000:root
        constraints:
          encryptionContextSubset: { app: payments }   # or encryptionContextEquals

  - id: f972a5cf-3280-443f-b623-7c84d4c27240
    spec: ECC_NIST_P256
    usage: SIGN_VERIFY
    material:
      - |
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtf7Q05vPkmNwklUD
        WFBi2CO5YkRjUd6JDHdNpB4g/5ehRANCAATLhrcH0gRS5e7WeWmHEj7HCqOnhbNO
        Q/9p+LsUBxUcKOfXcBnqLeL0QB/wbNv9cu43DzFEvopEiJL8R82Jk5uW
        -----END PRIVATE KEY-----

  - id: mrk-5d05b645e4a32845d94ae7a33df83c6f    # multi-Region primary in us-east-1
    multiRegion: true                 # optional: an mrk- id says it already
    replicaRegions: [eu-west-1]       # replicas share the primary's material
    material: [752e9878e22a16296ba447dfef6a75a5d3d2cc3378b86aa3fb66a87aa35256fa]

  - id: 501070ee-d532-4eb1-a44e-952dd2e36cf1
    origin: EXTERNAL                  # without material: PendingImport until ImportKeyMaterial
    description: waits for imported material

# S3 buckets: a new bucket gets its configuration; an existing one is left alone, though its
# missing objects are added.
buckets:
  - name: app-data
    account: "000000000000"           # default 000000000000 (the bucket's owner)
    region: us-east-1                 # default: the S3 endpoint's region
    versioning: Enabled               # or Suspended
    encryption:                       # default encryption
      algorithm: aws:kms              # AES256 | aws:kms | aws:kms:dsse
      kmsKeyId: alias/app-data
      bucketKey: true
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Deny
          Principal: "*"
          Action: s3:DeleteBucket
          Resource: arn:aws:s3:::app-data
    cors:
      - id: web
        allowedOrigins: ["http://localhost:3000"]
        allowedMethods: [GET, PUT]
        allowedHeaders: ["*"]
        exposeHeaders: [ETag]
        maxAgeSeconds: 3000
    tags: { team: payments }
    objects:
      - key: config/settings.json
        text: '{"feature": true}'     # inline text, or:
        # file: fixtures/logo.png     # a file, relative to this seed file, read when the seed is loaded
        contentType: application/json
        metadata: { owner: alice }    # x-amz-meta-owner
      - key: secrets/token.txt
        text: s3cr3t
        sse:                          # per-object encryption, instead of the bucket's default
          algorithm: AES256           # AES256 | aws:kms | aws:kms:dsse
          # With aws:kms or aws:kms:dsse (S3 takes SSE-KMS headers only over TLS: start with
          # --tls or --allow-http-sse-kms), also:
          # kmsKeyId: 0e1f3c4d-8a7b-4c2d-9e10-3f2a1b0c9d8e
          # context: { purpose: demo }   # encryption context, besides aws:s3:arn
          # bucketKey: false

# Optional: fault rules in force from the start (as POST /_sealbox/faults takes them; a reset
# brings them back) and KMS request quotas (as --kms-quotas).
# faults:
#   - service: kms                    # kms | s3
#     operation: GenerateDataKey      # or * for all
#     error: ThrottlingException      # any error AWS's model lists for the operation
#     probability: 0.1                # or count: N, or neither (until removed)
#     seed: 7
# kmsQuotas: aws                      # AWS's defaults; or a mapping: { aws: true, symmetric: 50 }
`;
