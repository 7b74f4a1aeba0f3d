// The AWS SDK warns once per process that its 2027 releases will need Node 22; these machines
// run Node 20 with SDK versions that support it, so the notice is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// A Sealbox started in memory with TLS keeps its local CA in ~/.sealbox/tls; the tests keep theirs
// in one temporary directory instead, so a test run writes nothing into the user's home.
if (!process.env.SEALBOX_TLS_DIR) {
  const { join } = require('node:path');
  const { tmpdir } = require('node:os');
  process.env.SEALBOX_TLS_DIR = join(tmpdir(), 'sealbox-test-tls');
}
