import type { Metadata } from "next";
import { LoginForm } from "@/components/login-form";

export const metadata: Metadata = { title: "Sign in" };

export default function LoginPage() {
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
        <h1 className="text-xl font-semibold">Vaultline</h1>
        <p className="mb-6 mt-1 text-sm text-slate-500">Sign in to manage backups.</p>
        <LoginForm />
      </div>
    </main>
  );
}
