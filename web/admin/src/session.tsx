/** Who is signed in (the shared session of web/shared), as React state. */
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import type { SessionUser } from "../../shared";
import { mall } from "./api";

interface Ctx {
  user: SessionUser | null;
  expired: boolean;
}
const SessionCtx = createContext<Ctx>({ user: null, expired: false });

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<Ctx>({ user: mall.session.get().user, expired: false });
  useEffect(
    () =>
      mall.session.subscribe((s, reason) => {
        setState({ user: s.user, expired: reason === "expired" });
      }),
    [],
  );
  return <SessionCtx.Provider value={state}>{children}</SessionCtx.Provider>;
}

export const useSession = () => useContext(SessionCtx);
