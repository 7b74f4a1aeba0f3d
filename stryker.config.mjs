// Mutation testing (StrykerJS 9.x with its jest runner) of the security-critical code: run with
// `npm run mutate` (every target, one after the other) or `npm run mutate -- <target>` or
// `npm run mutate -- --mutate <file>` (see scripts/run.mjs). Not part of `npm test`: it is slow.
// Stryker loads this file itself and wants its default export (the one exception to the
// no-default-exports habit). The target comes from SEALBOX_MUTATE_TARGET, set by scripts/run.mjs.
// https://stryker-mutator.io/docs/stryker-js/configuration/

/**
 * Each target: the files mutated and the unit tests that judge them (every unit test file that
 * imports a mutated file). Only those run against its mutants, never the end-to-end suites, so a
 * target finishes in minutes: a static mutant (a module-level constant) runs all of them.
 * `roots`, when given, is where jest looks for files: every mutant is a jest run, and crawling all
 * of packages/ costs some 1.6 s a run (0.5 s instead of 2.1 s for one small test file), more than
 * the tests themselves. Imports outside the roots still resolve.
 */
export const MUTATION_TARGETS = {
  sigv4: {
    mutate: ['packages/sigv4/src/**/*.ts', '!packages/sigv4/src/index.ts'],
    tests: ['packages/sigv4/test/*.test.ts'],
    roots: ['packages/sigv4'],
  },
  policy: {
    mutate: ['packages/policy/src/**/*.ts', '!packages/policy/src/index.ts', '!packages/policy/src/types.ts'],
    tests: ['packages/policy/test/*.test.ts'],
    roots: ['packages/policy'],
  },
  // KMS authorization and the ciphertext format.
  kms: {
    mutate: ['packages/kms/src/access/*.ts', 'packages/kms/src/crypto/ciphertext.ts'],
    tests: ['packages/kms/test/{access,authorize,ciphertext,condition-keys,validate}.test.ts'],
  },
  // S3 authorization and request checksums.
  s3: {
    mutate: [
      'packages/s3/src/authorization.ts',
      'packages/s3/src/actions.ts',
      'packages/s3/src/acl.ts',
      'packages/s3/src/public-policy.ts',
      'packages/s3/src/checksums.ts',
      'packages/s3/src/request-checksum.ts',
    ],
    // *-mutants.test.ts: cases written to kill the survivors of this target.
    tests: ['packages/s3/test/{actions,authorization,acl,request-checksum,checksums,xml-fuzz}.test.ts', 'packages/s3/test/*-mutants.test.ts'],
  },
};

const targetName = process.env.SEALBOX_MUTATE_TARGET ?? 'sigv4';
const target = MUTATION_TARGETS[targetName];
if (!target) throw new Error(`unknown mutation target ${targetName}; one of ${Object.keys(MUTATION_TARGETS).join(', ')}`);
// policy-fuzz.test.ts reaches almost every policy mutant and takes 7 s at its `npm test` size, so
// each mutant would cost 7 s (over two hours for the target). A tenth of its cases (0.6 s, the
// same seeds and counters, scaled) still compares with its reference evaluator; the test runner
// processes inherit this environment. Set SEALBOX_FUZZ yourself to run it at another size.
if (targetName === 'policy' && process.env.SEALBOX_FUZZ === undefined) {
  process.env.SEALBOX_FUZZ = 'long';
  process.env.SEALBOX_FUZZ_SCALE = '0.1';
}
// SEALBOX_MUTATE_WITHOUT=<regexp,...> leaves test files out, to measure what tests added later
// bring (the README's "before" scores); its reports are <target>-without.*, never incremental.
const without = (process.env.SEALBOX_MUTATE_WITHOUT ?? '').split(',').filter(Boolean);
const name = without.length > 0 ? `${targetName}-without` : targetName;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  testRunner: 'jest',
  // pnpm does not put the runner beside @stryker-mutator/core, where Stryker looks by default.
  plugins: [import.meta.resolve('@stryker-mutator/jest-runner')],
  mutate: target.mutate,
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    // Overrides testMatch (and roots): the target's unit test files, never the e2e suites.
    config: {
      testMatch: target.tests.map((glob) => `<rootDir>/${glob}`),
      testPathIgnorePatterns: ['/node_modules/', ...without],
      ...(target.roots ? { roots: target.roots.map((dir) => `<rootDir>/${dir}`) } : {}),
    },
    enableFindRelatedTests: true,
  },
  // Each mutant runs only the tests that reached it.
  coverageAnalysis: 'perTest',
  // The machine has 2 cores shared with others; SEALBOX_MUTATE_CONCURRENCY=2 when it is free.
  concurrency: Number(process.env.SEALBOX_MUTATE_CONCURRENCY ?? 1),
  // A mutant that loops forever is a kill (Timeout); a short allowance keeps such runs quick.
  timeoutMS: 5000,
  // Results are kept per target: a run after a change retests only the mutants it can affect.
  incremental: without.length === 0,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  // The sandbox is a copy of the sources; built output, reports and data directories stay out.
  ignorePatterns: ['**/dist', 'reports', '.sealbox', 'coverage', 'bench-results', '**/*.tsbuildinfo'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
  thresholds: { high: 90, low: 85, break: null },
};

export default config;
