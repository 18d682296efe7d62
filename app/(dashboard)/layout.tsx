import { getSessionUser } from "@/lib/auth";
import { Nav } from "@/components/nav";
import { UserProvider } from "@/components/user-context";
import { SignInRedirect } from "@/components/sign-in-redirect";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const user = await getSessionUser();
  // Client-side, so the page asked for (query and hash included) rides along to /login.
  if (!user) return <SignInRedirect />;
  return (
    <UserProvider user={user}>
      <div className="flex min-h-screen flex-col md:flex-row">
        <Nav user={user} />
        <main className="min-w-0 flex-1 p-4 md:p-8">{children}</main>
      </div>
    </UserProvider>
  );
}
