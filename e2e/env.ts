// Fixed facts of the e2e environment, shared by the config, the setup and the specs.
export const E2E = {
  port: Number(process.env.E2E_PORT ?? 3210),
  // Both ports below Linux's ephemeral range (32768–60999): the unit and integration run
  // just before leaves thousands of loopback connections in TIME_WAIT for a minute, and
  // one whose own end was a fixed port in that range keeps a server from binding it
  // (CI: "start failed: undefined" on 54410).
  pgPort: Number(process.env.E2E_PG_PORT ?? 25410),
  dataDir: ".data/e2e",
  get baseURL() {
    return `http://localhost:${this.port}`;
  },
  /** What a browser adds to the dashboard's own writes; the server refuses cookie writes without it. */
  get sameOrigin() {
    return { origin: this.baseURL };
  },
  admin: { email: "admin@e2e.test", password: "e2e-admin-password-1" },
  viewer: { email: "viewer@e2e.test", password: "e2e-viewer-password-1" },
  operator: { email: "operator@e2e.test", password: "e2e-operator-password-1" },
  adminState: "e2e/.auth/admin.json",
  viewerState: "e2e/.auth/viewer.json",
  operatorState: "e2e/.auth/operator.json",
};
