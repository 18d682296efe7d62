import type { Metadata } from "next";
import { LoginForm } from "@/components/login-form";
import { config } from "@/lib/config";
import { oidcSettings } from "@/lib/oidc-config";
import { OIDC_PROVIDER_ID } from "@/lib/oidc-provider";

export const metadata: Metadata = { title: "Sign in" };
// Which ways to sign in is the running server's configuration, not the build's.
export const dynamic = "force-dynamic";

export default function LoginPage() {
  const cfg = config();
  const sso = oidcSettings(cfg);
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
        <h1 className="text-xl font-semibold">Vaultline</h1>
        <p className="mb-6 mt-1 text-sm text-slate-500">Sign in to manage backups.</p>
        <LoginForm local={cfg.LOCAL_LOGIN} sso={sso ? { id: OIDC_PROVIDER_ID, name: sso.name } : null} />
      </div>
    </main>
  );
}
