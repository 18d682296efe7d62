"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api";
import type { CreateChannelInput, NotificationChannelKind, NotificationEvent, UpdateChannelInput } from "../validation/notification-channels";

export interface ChannelDto {
  id: string;
  name: string;
  kind: NotificationChannelKind;
  enabled: boolean;
  events: NotificationEvent[];
  destination: string | null;
  recipients: string[];
  secretsSet: string[];
  health: { lastSuccessAt: string | null; lastFailureAt: string | null; lastError: string | null; consecutiveFailures: number; failing: boolean };
  createdAt: string;
  updatedAt: string;
}

export interface ChannelTestDto {
  ok: boolean;
  attempts: number;
  status: number | null;
  error: string | null;
  channel: ChannelDto;
}

export const channelKeys = { all: ["notification-channels"] as const, list: () => [...channelKeys.all, "list"] as const };

export function useChannelsQuery() {
  return useQuery({ queryKey: channelKeys.list(), queryFn: () => api<{ channels: ChannelDto[] }>("/api/notification-channels") });
}

export function useCreateChannel() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateChannelInput) => api<ChannelDto>("/api/notification-channels", { method: "POST", json: input }),
    onSuccess: () => Promise.all([qc.invalidateQueries({ queryKey: channelKeys.all }), qc.invalidateQueries({ queryKey: ["audit"] })]),
  });
}

export function useUpdateChannel() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, input }: { id: string; input: UpdateChannelInput }) => api<ChannelDto>(`/api/notification-channels/${encodeURIComponent(id)}`, { method: "PATCH", json: input }),
    onSuccess: () => Promise.all([qc.invalidateQueries({ queryKey: channelKeys.all }), qc.invalidateQueries({ queryKey: ["audit"] })]),
  });
}

export function useDeleteChannel() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`/api/notification-channels/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSettled: () => Promise.all([qc.invalidateQueries({ queryKey: channelKeys.all }), qc.invalidateQueries({ queryKey: ["audit"] })]),
  });
}

export function useTestChannel() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<ChannelTestDto>(`/api/notification-channels/${encodeURIComponent(id)}/test`, { method: "POST", json: {} }),
    onSettled: () => qc.invalidateQueries({ queryKey: channelKeys.all }),
  });
}
