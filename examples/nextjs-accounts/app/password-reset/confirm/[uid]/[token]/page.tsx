"use client";
// The link in the reset email (PASSWORD_RESET_CONFIRM_URL = https://app.example.com/password-reset/confirm/{uid}/{token}).
import { use, useActionState } from "react";
import { confirmResetAction, type FormState } from "../../../../actions";

export default function ResetConfirmPage({ params }: { params: Promise<{ uid: string; token: string }> }) {
  const { uid, token } = use(params);
  const [state, action, pending] = useActionState<FormState, FormData>(confirmResetAction, {});
  if (state.done) return <p role="status">{state.message} <a href="/api/auth/signin">Sign in</a></p>;
  const e = state.errors ?? {};
  return (
    <form action={action}>
      <h1>Choose a new password</h1>
      <input type="hidden" name="uid" value={uid} />
      <input type="hidden" name="token" value={token} />
      {e.form && <p role="alert">{e.form} <a href="/password-reset">Ask for a new link</a></p>}
      <label>New password <input name="new_password1" type="password" autoComplete="new-password" required /></label>
      {e.new_password1 && <p role="alert">{e.new_password1}</p>}
      <label>Again <input name="new_password2" type="password" autoComplete="new-password" required /></label>
      {e.new_password2 && <p role="alert">{e.new_password2}</p>}
      <button disabled={pending}>Save</button>
    </form>
  );
}
