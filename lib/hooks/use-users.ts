"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api";
import type { CreateUserInput, UpdateUserInput } from "../validation/users";
import type { RoleName } from "../permissions";

export interface UserDto {
  id: string;
  email: string;
  displayName: string;
  role: RoleName;
  disabledAt: string | null;
  lastLoginAt: string | null;
  createdAt: string;
}

export const userKeys = { all: ["users"] as const, list: () => [...userKeys.all, "list"] as const };

export function useUsersQuery() {
  return useQuery({ queryKey: userKeys.list(), queryFn: () => api<{ users: UserDto[] }>("/api/users") });
}

export function useCreateUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateUserInput) => api<UserDto>("/api/users", { method: "POST", json: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useUpdateUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...input }: UpdateUserInput & { id: string }) => api<UserDto>(`/api/users/${id}`, { method: "PATCH", json: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: userKeys.all }),
  });
}
