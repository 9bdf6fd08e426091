/**
 * The signed-in session of one web app: access + refresh token pair kept in localStorage (one
 * key per app, so the console and the storefront sign in separately), shared by every tab.
 * `refresh()` rotates the pair once however many requests ask at the same time; when it fails
 * the session ends and listeners hear about it.
 */
export interface Tokens {
  accessToken: string;
  refreshToken: string;
  /** when the access token expires, ms since epoch (informational) */
  expiresAt: number;
}

export interface SessionUser {
  id: number;
  username: string;
  roles: string[];
  [k: string]: unknown;
}

export interface SessionState {
  tokens: Tokens | null;
  user: SessionUser | null;
}

type Listener = (s: SessionState, reason?: "expired") => void;

export class Session {
  private state: SessionState;
  private listeners = new Set<Listener>();
  private refreshing: Promise<string | null> | null = null;

  constructor(
    private readonly storageKey: string,
    private readonly doRefresh: (refreshToken: string) => Promise<{ accessToken: string; refreshToken: string; expiresIn: number } | null>,
  ) {
    this.state = this.read();
    if (typeof window !== "undefined") {
      // another tab signed in, out or rotated the pair
      window.addEventListener("storage", (e) => {
        if (e.key !== this.storageKey) return;
        this.state = this.read();
        this.emit();
      });
    }
  }

  private read(): SessionState {
    try {
      const raw = globalThis.localStorage?.getItem(this.storageKey);
      if (raw) return JSON.parse(raw) as SessionState;
    } catch {
      /* unreadable: signed out */
    }
    return { tokens: null, user: null };
  }

  private write(next: SessionState, reason?: "expired") {
    this.state = next;
    try {
      if (next.tokens) globalThis.localStorage?.setItem(this.storageKey, JSON.stringify(next));
      else globalThis.localStorage?.removeItem(this.storageKey);
    } catch {
      /* private mode: the session lives in memory only */
    }
    this.emit(reason);
  }

  private emit(reason?: "expired") {
    for (const l of this.listeners) l(this.state, reason);
  }

  get(): SessionState {
    return this.state;
  }

  accessToken(): string | null {
    return this.state.tokens?.accessToken ?? null;
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  signIn(pair: { accessToken: string; refreshToken: string; expiresIn: number }, user: SessionUser | null) {
    this.write({ tokens: toTokens(pair), user });
  }

  setUser(user: SessionUser | null) {
    if (this.state.tokens) this.write({ ...this.state, user });
  }

  signOut(reason?: "expired") {
    this.refreshing = null;
    this.write({ tokens: null, user: null }, reason);
  }

  /**
   * A new access token after a 401 on `failedToken`. Concurrent callers share one refresh; a
   * caller whose token was already replaced (by another request or another tab) gets the new
   * one without a second rotation. null: the session is over.
   */
  refresh(failedToken: string | null): Promise<string | null> {
    const stored = this.read();
    if (stored.tokens && stored.tokens.accessToken !== failedToken) {
      this.state = stored;
      return Promise.resolve(stored.tokens.accessToken);
    }
    if (this.refreshing) return this.refreshing;
    const refreshToken = stored.tokens?.refreshToken;
    if (!refreshToken) return Promise.resolve(null);
    this.refreshing = (async () => {
      try {
        const pair = await this.doRefresh(refreshToken);
        if (!pair) {
          this.signOut("expired");
          return null;
        }
        this.write({ tokens: toTokens(pair), user: this.state.user });
        return pair.accessToken;
      } catch {
        // the network failed, not the session: keep it, this request fails
        return null;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}

function toTokens(pair: { accessToken: string; refreshToken: string; expiresIn: number }): Tokens {
  return { accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresAt: Date.now() + pair.expiresIn * 1000 };
}
