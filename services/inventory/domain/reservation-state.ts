/**
 * Reservation life cycle as data. Every move is a compare-and-set on `status` in the database;
 * this table says which moves exist and what a lost compare-and-set means.
 *
 *   OPEN ──release──▶ RELEASED
 *   OPEN ──commit───▶ COMMITTED ──return──▶ RETURNED
 */
import type { ReservationStatus } from "../inventory.contracts";

export type ReservationAction = "release" | "commit" | "return";

export const TRANSITIONS: Record<ReservationAction, { from: ReservationStatus; to: ReservationStatus }> = {
  release: { from: "OPEN", to: "RELEASED" },
  commit: { from: "OPEN", to: "COMMITTED" },
  return: { from: "COMMITTED", to: "RETURNED" },
};

/** States a reservation can only reach after `action` happened (so repeating it is a no-op). */
const REACHED_AFTER: Record<ReservationAction, ReservationStatus[]> = {
  release: ["RELEASED"],
  commit: ["COMMITTED", "RETURNED"],
  return: ["RETURNED"],
};

/**
 * The compare-and-set for `action` changed nothing and the reservation is now in `current`:
 * "done" when the action had already happened (an idempotent repeat — return the reservation),
 * "conflict" when another transition won (RESERVATION_STATE_CONFLICT).
 */
export function outcomeOfLostUpdate(action: ReservationAction, current: ReservationStatus): "done" | "conflict" {
  return REACHED_AFTER[action].includes(current) ? "done" : "conflict";
}
