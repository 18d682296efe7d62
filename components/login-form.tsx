"use client";
import { signIn } from "next-auth/react";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { Button } from "./ui/button";
import { Field } from "./ui/field";
import { safeCallbackPath } from "@/lib/safe-redirect";
import { loginErrorMessage } from "./login-messages";

export interface LoginOptions {
  /** Password sign-in (off with LOCAL_LOGIN=false). */
  local: boolean;
  /** Single sign-on: its provider id and button label, when configured. */
  sso: { id: string; name: string } | null;
}

function Form({ local, sso }: LoginOptions) {
  const router = useRouter();
  const params = useSearchParams();
  const [error, setError] = useState<string | null>(() => loginErrorMessage(params.get("error")));
  const [pending, setPending] = useState<"password" | "sso" | null>(null);
  const callbackPath = safeCallbackPath(params.get("callbackUrl"));

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setPending("password");
    setError(null);
    try {
      const res = await signIn("credentials", {
        email: String(form.get("email")),
        password: String(form.get("password")),
        redirect: false,
      });
      if (res?.ok) {
        router.replace(callbackPath);
        router.refresh();
      } else if (res?.status === 429) {
        setError("Too many failed sign-ins. Try again in 15 minutes.");
      } else {
        setError("Email or password is wrong.");
      }
    } catch {
      setError("Too many failed sign-ins, or the server is unreachable. Try again shortly.");
    } finally {
      setPending(null);
    }
  }

  async function onSso() {
    if (!sso) return;
    setPending("sso");
    setError(null);
    try {
      // Leaves the page for the provider; it sends the browser back to /api/auth/callback/oidc.
      await signIn(sso.id, { callbackUrl: callbackPath });
    } catch {
      setError("Single sign-on could not start: the server is unreachable. Try again shortly.");
      setPending(null);
    }
  }

  return (
    <div className="flex flex-col gap-4">
      {error && (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          {error}
        </p>
      )}
      {sso && (
        <Button type="button" variant={local ? "secondary" : "primary"} onClick={onSso} disabled={pending !== null}>
          {pending === "sso" ? `Redirecting to ${sso.name}…` : `Sign in with ${sso.name}`}
        </Button>
      )}
      {sso && local && (
        <div className="flex items-center gap-3 text-xs text-slate-400" aria-hidden>
          <span className="h-px flex-1 bg-slate-200" />
          or with a password
          <span className="h-px flex-1 bg-slate-200" />
        </div>
      )}
      {local && (
        <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate>
          <Field label="Email" name="email" type="email" autoComplete="username" required autoFocus={!sso} />
          <Field label="Password" name="password" type="password" autoComplete="current-password" required />
          <Button type="submit" disabled={pending !== null}>
            {pending === "password" ? "Signing in…" : "Sign in"}
          </Button>
        </form>
      )}
    </div>
  );
}

export function LoginForm(props: LoginOptions) {
  return (
    <Suspense>
      <Form {...props} />
    </Suspense>
  );
}
