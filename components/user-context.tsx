"use client";
import { createContext, useContext } from "react";
import type { SessionUser } from "@/lib/auth";
import { roleCan, type Action } from "@/lib/permissions";

const Ctx = createContext<SessionUser | null>(null);

export function UserProvider({ user, children }: { user: SessionUser; children: React.ReactNode }) {
  return <Ctx.Provider value={user}>{children}</Ctx.Provider>;
}

export function useUser(): SessionUser {
  const u = useContext(Ctx);
  if (!u) throw new Error("useUser outside the dashboard");
  return u;
}

/** The UI hides what the role cannot do; the server checks again. */
export function useCan(action: Action): boolean {
  return roleCan(useUser().role, action);
}
