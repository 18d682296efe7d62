// The shape of one health check (GET /api/health), shared by lib/health and the domain
// modules that provide checks.
export type CheckState = "ok" | "degraded" | "down";
export interface HealthCheck {
  status: CheckState;
  message?: string;
  [k: string]: unknown;
}
