"use client";
import { useActionState } from "react";
import { signUpAction, type FormState } from "../actions";

export default function SignUpPage() {
  const [state, action, pending] = useActionState<FormState, FormData>(signUpAction, {});
  if (state.done) return <p role="status">{state.message}</p>;
  const e = state.errors ?? {};
  return (
    <form action={action}>
      <h1>Create an account</h1>
      {e.form && <p role="alert">{e.form}</p>}
      <label>Username <input name="username" autoComplete="username" required /></label>
      {e.username && <p role="alert">{e.username}</p>}
      <label>Email <input name="email" type="email" autoComplete="email" required /></label>
      {e.email && <p role="alert">{e.email}</p>}
      <label>Password <input name="password1" type="password" autoComplete="new-password" required /></label>
      {e.password1 && <p role="alert">{e.password1}</p>}
      <label>Password again <input name="password2" type="password" autoComplete="new-password" required /></label>
      {e.password2 && <p role="alert">{e.password2}</p>}
      <button disabled={pending}>Sign up</button>
    </form>
  );
}
