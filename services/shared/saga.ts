/**
 * A minimal saga runner (Medusa-style steps with compensations). Steps run in order; when one
 * fails, the compensations of the steps that completed run in reverse order, then the original
 * error is rethrown. A compensation that fails is reported through `onCompensationError` and does
 * not hide the original error or stop the remaining compensations.
 *
 * Steps talk to each other through the shared `state` object (e.g. the reservation a later
 * compensation must release).
 */

export interface SagaStep<S> {
  name: string;
  run(state: S): Promise<void>;
  /** undo `run`; called only if `run` completed. Must be idempotent (it may be retried). */
  compensate?(state: S, cause: unknown): Promise<void>;
}

export interface SagaOptions {
  onCompensationError?(step: string, err: unknown, cause: unknown): void;
}

/** Run `steps` over `state`; on failure compensate completed steps in reverse and rethrow. */
export async function runSaga<S>(steps: readonly SagaStep<S>[], state: S, opts: SagaOptions = {}): Promise<S> {
  const done: SagaStep<S>[] = [];
  for (const step of steps) {
    try {
      await step.run(state);
      done.push(step);
    } catch (cause) {
      for (const prev of done.reverse()) {
        if (!prev.compensate) continue;
        try {
          await prev.compensate(state, cause);
        } catch (err) {
          opts.onCompensationError?.(prev.name, err, cause);
        }
      }
      throw cause;
    }
  }
  return state;
}
