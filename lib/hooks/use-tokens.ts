"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api";
import type { Scope } from "../permissions";

export interface TokenDto {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  createdBy: { id: string; email: string; displayName: string };
}

export const tokenKeys = { all: ["tokens"] as const, list: () => [...tokenKeys.all, "list"] as const };

export function useTokensQuery() {
  return useQuery({ queryKey: tokenKeys.list(), queryFn: () => api<{ tokens: TokenDto[] }>("/api/tokens") });
}

export function useCreateToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { name: string; scopes: Scope[]; expiresAt?: string }) =>
      api<TokenDto & { token: string }>("/api/tokens", { method: "POST", json: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}

export function useRevokeToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`/api/tokens/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onMutate: async (id) => {
      // Optimistic: the row disappears at once, and comes back if the server says no.
      await qc.cancelQueries({ queryKey: tokenKeys.list() });
      const before = qc.getQueryData<{ tokens: TokenDto[] }>(tokenKeys.list());
      if (before) qc.setQueryData(tokenKeys.list(), { tokens: before.tokens.filter((t) => t.id !== id) });
      return { before };
    },
    onError: (_e, _id, ctx) => {
      if (ctx?.before) qc.setQueryData(tokenKeys.list(), ctx.before);
    },
    onSettled: () => qc.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}
