"use client";
// fetch wrapper for the browser: JSON in and out, the server's error message surfaced.
export class HttpError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details?: unknown,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init?: RequestInit & { json?: unknown }): Promise<T> {
  const write = (init?.method ?? "GET").toUpperCase() !== "GET";
  const res = await fetch(path, {
    ...init,
    // Every write is JSON, bodiless or not: the server refuses other cookie-authenticated
    // writes as cross-site forgeries (lib/csrf.ts).
    headers: { ...(write || init?.json !== undefined ? { "content-type": "application/json" } : {}), ...init?.headers },
    body: init?.json !== undefined ? JSON.stringify(init.json) : init?.body,
  });
  if (res.status === 204) return undefined as T;
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    throw new HttpError(res.status, body?.error?.code ?? "INTERNAL", body?.error?.message ?? `Request failed (${res.status})`, body?.error?.details);
  }
  return body as T;
}
