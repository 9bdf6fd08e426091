/**
 * Login throttling rule (README "Sessions and account security"). The subject of an attempt is
 * the account it resolves to (by username or email alike), or the typed text when none exists;
 * both are treated the same, so the answers do not reveal which is which. Per window of
 * LOGIN_RATE_LIMIT_WINDOW_MS, with `limit` = LOGIN_RATE_LIMIT_MAX:
 * - a client with `limit * CLIENT_FACTOR` failures (any subjects) is refused outright;
 * - a client gets at most `limit` attempts at one subject (a success clears its count);
 * - a subject with `limit` failures from all clients together is "under attack": then only
 *   clients that have not tried it yet in the window may try; the others wait.
 * So a stranger's guesses cost the owner nothing unless the owner shares the stranger's client.
 */

/** A client may try several accounts, so its allowance is larger than one account's. */
export const CLIENT_FACTOR = 5;

export type LoginVerdict = "allowed" | "client-limited" | "subject-limited";

/** Checked before the account is even looked up. */
export function clientVerdict(clientFailures: number, limit: number): LoginVerdict {
  return clientFailures >= limit * CLIENT_FACTOR ? "client-limited" : "allowed";
}

/**
 * `pairAttempts` counts this client's attempts at the subject in the window including this one
 * (reserved atomically before the password is checked, so parallel guesses cannot overshoot);
 * `subjectFailures` counts failed attempts at the subject from every client.
 */
export function subjectVerdict(pairAttempts: number, subjectFailures: number, limit: number): LoginVerdict {
  if (pairAttempts > limit) return "subject-limited";
  if (subjectFailures >= limit && pairAttempts > 1) return "subject-limited";
  return "allowed";
}
