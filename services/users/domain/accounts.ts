/** Pure account rules: identifiers, passwords, emails, refresh-token format, roles, search, address defaults. */
import { ROLES } from "../../shared/tokens";

export const USERNAME_RE = /^[A-Za-z0-9_]{3,32}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 72;
export const MAX_ADDRESSES = 20;
/** A password must contain something besides whitespace. */
export const PASSWORD_NOT_BLANK = /\S/;

export function normaliseUsername(u: string): string {
  return u.trim().toLowerCase();
}
export function normaliseEmail(e: string): string {
  return e.trim().toLowerCase();
}

/**
 * What is wrong with an email the validator's "precise" mode accepted, or null. That mode still
 * takes a quoted local part (`"<script>"@x.com`): legal in RFC 5321, unused by real mailboxes,
 * and a way to carry markup into every screen and mail that shows the address.
 */
export function emailProblem(email: string): string | null {
  return email.trim().startsWith('"') ? "quoted local parts are not accepted" : null;
}

/** LIKE escape character, declared with `ESCAPE '!'`: SQLite has no default one, and MySQL's default (backslash) is also its string-literal escape. */
export const LIKE_ESCAPE = "!";

/** `text` as a LIKE pattern matching it anywhere, its own `%`, `_` and `!` taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[!%_]/g, (c) => LIKE_ESCAPE + c)}%`;
}

/** The login field is an email when it contains "@", else a username. */
export function loginKind(login: string): "email" | "username" {
  return login.includes("@") ? "email" : "username";
}

/** Refresh tokens are `<tokenId>.<secret>`; anything else is not one of ours. */
export function parseRefreshToken(token: string): { id: string; secret: string } | null {
  const m = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{20,100})$/.exec(token);
  return m ? { id: m[1], secret: m[2] } : null;
}

/** Roles as stored: unique, known, customer always kept, stable order. */
export function normaliseRoles(roles: string[]): string[] {
  const set = new Set(roles.filter((r) => (ROLES as readonly string[]).includes(r)));
  set.add("customer");
  return ROLES.filter((r) => set.has(r));
}

/**
 * Which address is default after a change, keeping exactly one default while any exist:
 * the one just marked default, else the current default if it survives, else the newest.
 */
export function nextDefault(
  addresses: { id: number; isDefault: boolean; createdAt: Date }[],
  change: { markDefault?: number; removed?: number },
): number | null {
  const remaining = addresses.filter((a) => a.id !== change.removed);
  if (!remaining.length) return null;
  if (change.markDefault !== undefined && remaining.some((a) => a.id === change.markDefault)) return change.markDefault;
  const current = remaining.find((a) => a.isDefault);
  if (current) return current.id;
  return [...remaining].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id)[0].id;
}
