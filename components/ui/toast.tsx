"use client";
// Toasts: short confirmations. One given a key can be taken down early by whoever knows
// that key (a "queued" toast goes once its backup has finished), and pushing the same key
// again replaces it.
import { createContext, useCallback, useContext, useState } from "react";

type Tone = "success" | "error" | "info";
interface Toast {
  id: number;
  tone: Tone;
  text: string;
  key?: string;
}

type Push = (text: string, tone?: Tone, opts?: { key?: string }) => void;

const Ctx = createContext<{ push: Push; dismiss: (key: string) => void }>({ push: () => {}, dismiss: () => {} });

export function useToast(): Push {
  return useContext(Ctx).push;
}

/** Takes down the toast pushed with this key, if it is still showing. */
export function useDismissToast(): (key: string) => void {
  return useContext(Ctx).dismiss;
}

const toneClass: Record<Tone, string> = {
  success: "border-emerald-300 bg-emerald-50 text-emerald-900",
  error: "border-red-300 bg-red-50 text-red-900",
  info: "border-sky-300 bg-sky-50 text-sky-900",
};

export function ToastProvider({ children }: { children: React.ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const push = useCallback<Push>((text, tone = "success", opts) => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t.filter((x) => !opts?.key || x.key !== opts.key), { id, tone, text, key: opts?.key }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), tone === "error" ? 8000 : 4000);
  }, []);
  const dismiss = useCallback((key: string) => setToasts((t) => (t.some((x) => x.key === key) ? t.filter((x) => x.key !== key) : t)), []);
  return (
    <Ctx.Provider value={{ push, dismiss }}>
      {children}
      <div aria-live="polite" className="fixed bottom-4 left-4 right-4 z-50 flex flex-col gap-2 sm:left-auto sm:w-80">
        {toasts.map((t) => (
          <div key={t.id} role="status" data-toast-key={t.key} className={`rounded-md border px-4 py-3 text-sm shadow [overflow-wrap:anywhere] ${toneClass[t.tone]}`}>
            {t.text}
          </div>
        ))}
      </div>
    </Ctx.Provider>
  );
}
