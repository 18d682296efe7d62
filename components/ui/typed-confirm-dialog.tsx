"use client";
// A dialog around TypedConfirm for one mutation: what it does in the body, the exact word in
// the footer; the typed word and the failed attempt are forgotten when it closes.
import { useState } from "react";
import { Dialog } from "./dialog";
import { TypedConfirm } from "./typed-confirm";

interface Mutation<T> {
  mutateAsync: () => Promise<T>;
  reset: () => void;
  isPending: boolean;
  isError: boolean;
  error: Error | null;
}

export function TypedConfirmDialog<T>({
  open,
  onClose,
  title,
  description,
  testId,
  word,
  purpose,
  action,
  pendingAction,
  mutation,
  onDone,
  children,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  /** What the mutation does, in a sentence the dialog is described by. */
  description?: React.ReactNode;
  testId: string;
  word: string;
  purpose: string;
  action: string;
  pendingAction: string;
  mutation: Mutation<T>;
  /** After the mutation succeeded, before the dialog closes (a toast). */
  onDone: (result: T) => void;
  children?: React.ReactNode;
}) {
  const [typed, setTyped] = useState("");
  const close = () => {
    setTyped("");
    mutation.reset();
    onClose();
  };
  async function submit() {
    try {
      onDone(await mutation.mutateAsync());
      close();
    } catch {
      // Shown from mutation.error.
    }
  }
  return (
    <Dialog
      open={open}
      onClose={close}
      title={title}
      description={description}
      testId={testId}
      footer={
        <TypedConfirm
          word={word}
          purpose={purpose}
          value={typed}
          onChange={setTyped}
          onConfirm={submit}
          onCancel={close}
          pending={mutation.isPending}
          error={mutation.isError ? (mutation.error?.message ?? "failed") : null}
          action={action}
          pendingAction={pendingAction}
        />
      }
    >
      {children}
    </Dialog>
  );
}
