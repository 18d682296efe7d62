"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api } from "./api";
import type { AuditEventDto } from "../audit-query";

export interface AuditParams {
  limit: number;
  offset: number;
  action?: string;
  actorType?: string;
  /** One target's events (id or name); absent: every event (decision 110). */
  target?: string;
}

export interface AuditList {
  events: AuditEventDto[];
  total: number;
  limit: number;
  offset: number;
  actions: string[];
}

export const auditKeys = {
  all: ["audit"] as const,
  list: (p: AuditParams) => [...auditKeys.all, "list", p] as const,
};

export function useAuditQuery(p: AuditParams) {
  const q = new URLSearchParams({ limit: String(p.limit), offset: String(p.offset) });
  if (p.action) q.set("action", p.action);
  if (p.actorType) q.set("actorType", p.actorType);
  if (p.target) q.set("target", p.target);
  return useQuery({
    queryKey: auditKeys.list(p),
    queryFn: () => api<AuditList>(`/api/audit?${q}`),
    placeholderData: keepPreviousData,
  });
}
