/**
 * Ticket ids: time-ordered (a base-36 millisecond clock first), unguessable (64 random bits),
 * and carrying their sale's id so a ticket alone finds its sale's keys.
 */
import crypto from "node:crypto";

const TICKET_RE = /^K[0-9a-z]{9}[0-9a-f]{16}e([1-9][0-9]{0,11})$/;

/** a pool of random bytes: one crypto call per 512 tickets instead of one per ticket */
let pool = Buffer.alloc(0);
let at = 0;
function random8(): string {
  if (at + 8 > pool.length) {
    pool = crypto.randomBytes(4096);
    at = 0;
  }
  const hex = pool.toString("hex", at, at + 8);
  at += 8;
  return hex;
}

export function newTicket(eventId: number, nowMs = Date.now()): string {
  return `K${nowMs.toString(36).padStart(9, "0")}${random8()}e${eventId}`;
}

/** The sale a ticket belongs to, or null when it is not a ticket. */
export function ticketEvent(ticket: string): number | null {
  const m = TICKET_RE.exec(ticket);
  return m ? Number(m[1]) : null;
}
