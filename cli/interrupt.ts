/**
 * Ctrl-C and SIGTERM during `sync` and `retry`. The first signal stops the run cleanly: no chunk
 * starts, chunks in flight are abandoned, the run is marked interrupted and the command says how to
 * resume it. A second signal exits at once.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeJson } from '../shared/state/codec.ts';
import { runKeys } from '../shared/state/keys.ts';
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE } from '../shared/adapters/local/folder-store.ts';
import type { InterruptedRun } from '../shared/state/runs.ts';

/** The exit code of a run stopped by a signal: 128 + SIGINT, as shells report Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

/** Ctrl-C, and what `kill`, systemd and Docker send to stop a process. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface Interrupts {
  /** Aborted, with the signal's name as reason, by the first signal. */
  readonly signal: AbortSignal;
  /** Stop listening (the run ended). */
  dispose(): void;
}

/** What the run in progress is, for the second signal: it cannot wait for anything. */
export interface RunInProgress {
  readonly warehouseRoot: string;
  readonly runId: string;
  /** The command that resumes it. */
  readonly resume: string;
}

/**
 * Listen for SIGINT and SIGTERM. The first aborts the returned signal; the second marks the run
 * interrupted if it has a plan (synchronously: nothing else runs again), prints how to resume it and
 * exits at once with {@link EXIT_INTERRUPTED}.
 */
export function listenForInterrupts(run: () => RunInProgress | undefined, err: NodeJS.WritableStream = process.stderr): Interrupts {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      err.write(`\n${signal}: stopping; the run will be marked interrupted, for kombo-etl retry to resume (${signal} again to quit at once)\n`);
      controller.abort(signal);
      return;
    }
    const current = run();
    const resumable = current !== undefined && markInterruptedNow(current, signal);
    err.write(resumable ? `${signal}: stopped at once; run ${current.runId} is marked interrupted. Resume it with: ${current.resume}\n` : `${signal}: stopped at once, before the run was planned; nothing was written\n`);
    process.exit(EXIT_INTERRUPTED);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
    },
  };
}

/**
 * `kombo-etl retry --run-id … --warehouse …` with the flags that choose the same source; never the
 * API key, which the caller asks for in words.
 */
export function resumeCommand(runId: string, warehouseRoot: string, source: 'kombo' | 'sandbox', apiUrl: string | undefined): string {
  const quote = (s: string) => (/^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  const sourceFlags = source === 'sandbox' ? ' --sandbox' : apiUrl === undefined ? '' : ` --api-url ${quote(apiUrl)}`;
  return `kombo-etl retry --run-id ${runId} --warehouse ${quote(warehouseRoot)}${sourceFlags}`;
}

/**
 * Write the run's interruption marker straight to the warehouse folder, for the second signal: the
 * run has a plan and no verdict yet. Returns whether the run can be resumed.
 */
function markInterruptedNow(run: RunInProgress, signal: string): boolean {
  const at = (key: string) => join(run.warehouseRoot, key);
  if (!existsSync(at(runKeys.plan(run.runId)))) return false;
  if (existsSync(at(runKeys.success(run.runId))) || existsSync(at(runKeys.failed(run.runId)))) return false;
  const path = at(runKeys.interrupted(run.runId));
  if (!existsSync(path)) {
    const record: InterruptedRun = { runId: run.runId, interruptedAt: new Date().toISOString(), signal };
    mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_FOLDER_MODE });
    writeFileSync(path, encodeJson(record), { mode: PRIVATE_FILE_MODE });
  }
  return true;
}
