/** A broken rule of the marketing domain as the typed client error the envelope carries. */
import { bizError } from "../shared/errors";
import type { Violation } from "./domain/coupon-rules";

export function violationError(v: Violation) {
  return bizError(v.type, v.message, { field: v.field });
}
