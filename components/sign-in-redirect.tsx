"use client";
// Signed out on a dashboard page: off to /login, carrying the page asked for (path, query
// and hash — the hash never reaches the server) so sign-in can return there.
import { useEffect } from "react";
import { useRouter } from "next/navigation";

export function SignInRedirect() {
  const router = useRouter();
  useEffect(() => {
    const { pathname, search, hash } = window.location;
    router.replace(`/login?callbackUrl=${encodeURIComponent(`${pathname}${search}${hash}`)}`);
  }, [router]);
  return (
    <p role="status" className="p-8 text-sm text-slate-600">
      Signing in is needed; taking you to the sign-in page…
    </p>
  );
}
