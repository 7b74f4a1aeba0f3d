export { SignedClient, sha256Hex, describeFailure, type Endpoint, type Credentials, type RequestSpec, type Response } from './client';
export { runLoad, timedOperation, type LoadOptions, type NextOperation, type Operation } from './load';
export { runMultipart, type MultipartOptions, type MultipartStats } from './multipart';
export { parseOptions, HELP, UsageError, type CliOptions } from './options';
export { formatCpu, formatMs, formatRate, formatRatio, markdownReport, markdownTable, writeReport, TABLE_COLUMNS } from './report';
export { runBench, selectScenarios, type BenchOptions, type BenchReport, type ScenarioResult, type TargetStats } from './run';
export { SCENARIOS, FULL_SIZES, QUICK_SIZES, scenarioNames, createBucket, createKey, sseKmsHeaders, type Scenario, type Sizes } from './scenarios';
export { percentile, summarise, type Stats } from './stats';
export { startSealbox, startMoto, startCeiling, processCpuMs, rssBytes, sampleRss, type Target, type RssSummary } from './targets';
