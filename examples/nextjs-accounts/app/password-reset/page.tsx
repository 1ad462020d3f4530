"use client";
import { useActionState } from "react";
import { requestResetAction, type FormState } from "../actions";

export default function PasswordResetPage() {
  const [state, action, pending] = useActionState<FormState, FormData>(requestResetAction, {});
  if (state.done) return <p role="status">{state.message}</p>;
  return (
    <form action={action}>
      <h1>Forgot your password?</h1>
      <label>Email <input name="email" type="email" autoComplete="email" required /></label>
      {state.errors?.email && <p role="alert">{state.errors.email}</p>}
      {state.errors?.form && <p role="alert">{state.errors.form}</p>}
      <button disabled={pending}>Send me a reset link</button>
    </form>
  );
}
