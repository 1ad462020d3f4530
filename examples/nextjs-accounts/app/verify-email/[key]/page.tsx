"use client";
// The link in the confirmation email (ACCOUNT_EMAIL_CONFIRMATION_URL = https://app.example.com/verify-email/{key}).
// The key is posted by a button, not on page load: mail scanners that open links must not use it up.
import { use, useActionState } from "react";
import { resendAction, verifyEmailAction, type FormState } from "../../actions";

export default function VerifyEmailPage({ params }: { params: Promise<{ key: string }> }) {
  const { key } = use(params);
  const [state, confirm, pending] = useActionState<FormState, FormData>(verifyEmailAction, {});
  const [resent, resend] = useActionState<FormState, FormData>(resendAction, {});
  if (state.done) return <p role="status">{state.message} <a href="/api/auth/signin">Sign in</a></p>;
  return (
    <>
      <form action={confirm}>
        <h1>Confirm your email address</h1>
        <input type="hidden" name="key" value={decodeURIComponent(key)} />
        <button disabled={pending}>Confirm</button>
        {state.errors?.form && <p role="alert">{state.errors.form}</p>}
      </form>
      {state.errors && (
        <form action={resend}>
          <label>Email <input name="email" type="email" required /></label>
          <button>Send a new link</button>
          {resent.message && <p role="status">{resent.message}</p>}
        </form>
      )}
    </>
  );
}
