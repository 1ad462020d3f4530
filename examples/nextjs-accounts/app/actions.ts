"use server";
// Server actions: the browser posts the forms to Next.js, which calls authbridge server-side.
import {
  confirmPasswordReset,
  fieldErrors,
  requestPasswordReset,
  resendEmail,
  signUp,
  verifyEmail,
} from "@/lib/accounts.mjs";

export type FormState = { done?: boolean; message?: string; errors?: Record<string, string> };

const text = (form: FormData, name: string) => String(form.get(name) ?? "");

export async function signUpAction(_: FormState, form: FormData): Promise<FormState> {
  const res = await signUp({
    username: text(form, "username"),
    email: text(form, "email"),
    password1: text(form, "password1"),
    password2: text(form, "password2"),
  });
  if (res.status === 201) return { done: true, message: "Check your inbox: we sent you a link to confirm your address." };
  if (res.status === 429) return { errors: { form: "Too many attempts. Try again later." } };
  return { errors: fieldErrors(res.data) };
}

export async function verifyEmailAction(_: FormState, form: FormData): Promise<FormState> {
  const res = await verifyEmail(text(form, "key"));
  if (res.ok) return { done: true, message: "Your address is confirmed. You can sign in." };
  return { errors: { form: "This link is invalid or has expired. Ask for a new one below." } };
}

export async function resendAction(_: FormState, form: FormData): Promise<FormState> {
  const res = await resendEmail(text(form, "email"));
  if (res.ok) return { done: true, message: "If that address is waiting for confirmation, a new link is on its way." };
  return { errors: res.status === 429 ? { form: "Too many attempts. Try again later." } : fieldErrors(res.data) };
}

export async function requestResetAction(_: FormState, form: FormData): Promise<FormState> {
  const res = await requestPasswordReset(text(form, "email"));
  if (res.ok) return { done: true, message: "If an account uses that address, we sent it a reset link." };
  return { errors: res.status === 429 ? { form: "Too many attempts. Try again later." } : fieldErrors(res.data) };
}

export async function confirmResetAction(_: FormState, form: FormData): Promise<FormState> {
  const res = await confirmPasswordReset({
    uid: text(form, "uid"),
    token: text(form, "token"),
    new_password1: text(form, "new_password1"),
    new_password2: text(form, "new_password2"),
  });
  if (res.ok) return { done: true, message: "Your password is changed. Sign in with it." };
  const errors = fieldErrors(res.data);
  if (errors.uid || errors.token) return { errors: { form: "This reset link is invalid or has expired. Ask for a new one." } };
  return { errors };
}
