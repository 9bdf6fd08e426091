/**
 * Typed action descriptors: an action's name together with its params and result types, exported
 * by the contracts file of the service that owns the action. `callAction(ctx, InventoryCalls.reserve,
 * params)` checks the params and types the result from that one import, so a caller cannot pair a
 * name with the wrong types.
 */
import type { CallingOptions } from "moleculer";

export interface ActionRef<P, R> {
  readonly name: string;
  /** never set: carries P and R for the type checker */
  readonly types?: (params: P) => R;
}

export const action = <P, R>(name: string): ActionRef<P, R> => ({ name });

/** A broker or a context: anything that can call an action. */
export interface Caller {
  call(name: string, params?: unknown, opts?: CallingOptions): Promise<unknown>;
}

export function callAction<P, R>(caller: Caller, ref: ActionRef<P, R>, params: P, opts?: CallingOptions): Promise<R> {
  return caller.call(ref.name, params, opts) as Promise<R>;
}
