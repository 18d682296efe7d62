// Server-component guard for pages: the signed-in user and whether their role allows
// the page. Pages render <AccessDenied/> instead of their content when it does not.
import { getSessionUser } from "./auth";
import { roleCan, type Action } from "./permissions";

export async function pageAccess(action: Action) {
  const user = await getSessionUser();
  return { user, allowed: !!user && roleCan(user.role, action) };
}
