// Signs in once per role and saves the session (dub's setup-project pattern). The
// VIEWER and OPERATOR users are created through the real users API as the admin.
import { test as setup, expect } from "@playwright/test";
import { E2E } from "./env";
import { signIn } from "./helpers";

setup("sign in as each role", async ({ page, browser }) => {
  await signIn(page, E2E.admin.email, E2E.admin.password);
  await page.context().storageState({ path: E2E.adminState });

  for (const [u, role] of [
    [E2E.viewer, "VIEWER"],
    [E2E.operator, "OPERATOR"],
  ] as const) {
    const res = await page.request.post("/api/users", {
      headers: E2E.sameOrigin,
      data: { email: u.email, displayName: `${role[0]}${role.slice(1).toLowerCase()} User`, role, password: u.password },
    });
    expect([201, 409]).toContain(res.status());
  }

  for (const [u, state] of [
    [E2E.viewer, E2E.viewerState],
    [E2E.operator, E2E.operatorState],
  ] as const) {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await signIn(p, u.email, u.password);
    await ctx.storageState({ path: state });
    await ctx.close();
  }
});
