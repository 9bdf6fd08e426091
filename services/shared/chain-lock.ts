/**
 * A promise-chain mutex per key: each caller waits for the one before it, in arrival order.
 * In-process only — the embedded shape's SQLite writer (sqlite-query.ts) and its named locks
 * (db.ts `withNamedLock`) use it; MySQL/MariaDB lock in the database.
 */
interface Queues<K> {
  get(key: K): Promise<unknown> | undefined;
  set(key: K, queue: Promise<unknown>): unknown;
  delete(key: K): unknown;
}

/** Run `fn` once everything queued before it on `key` has finished. */
export async function withChainLock<K, T>(queues: Queues<K>, key: K, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = prev.then(() => mine);
  queues.set(key, chained);
  await prev;
  try {
    return await fn();
  } finally {
    release();
    if (queues.get(key) === chained) queues.delete(key);
  }
}

/** Wait until nothing holds or waits for `key`. */
export async function chainLockIdle<K>(queues: Queues<K>, key: K): Promise<void> {
  for (let q = queues.get(key); q; q = queues.get(key)) await q.catch(() => undefined);
}
