// What every scenario receives and returns.
import type { Options } from '../lib/args';
import type { Progress } from '../lib/progress';
import type { RunRecorder, RunResult } from '../lib/recorder';

export interface ScenarioContext {
  opts: Options;
  /** The nodes of this run (the baseline run has one). */
  urls: string[];
  server: 'target' | 'baseline';
  /** 'sign': HS256 tokens made here; 'register': users created over REST. */
  users: 'sign' | 'register';
  /** Unique per run: prefixes user ids, room names and clientMsgIds. */
  runId: string;
  rec: RunRecorder;
  progress: Progress;
  /** True after Ctrl-C: loops stop and the partial result is reported. */
  stopped(): boolean;
}

export type Scenario = (ctx: ScenarioContext) => Promise<RunResult>;
