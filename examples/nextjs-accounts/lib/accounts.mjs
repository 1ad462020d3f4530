// The account calls a Next.js app makes to authbridge (dj-rest-auth's API under /api/auth/),
// server-side: from server actions and from Auth.js's `authorize()`. No imports, no framework:
// the interop suite runs these very functions against a live authbridge
// (interop/django/tests/test_accounts_example.py).
//
// Every function answers `{ ok, status, data }`: `data` is authbridge's JSON body. On a 400 it is
// DRF's error object, field by field (`{"password1": ["This password is too short. ..."]}`), or
// `{"non_field_errors": [...]}`; `fieldErrors()` flattens it for a form.

/** authbridge's base URL as the Next.js server reaches it (never exposed to the browser). */
export function authbridgeUrl(env = globalThis.process?.env ?? {}) {
  return (env.AUTHBRIDGE_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
}

async function call(path, body, { baseUrl = authbridgeUrl(), token, method = "POST", fetchImpl = fetch } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetchImpl(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  return { ok: res.ok, status: res.status, data };
}

/** Sign-up. Mandatory verification: 201 {"detail": "Verification e-mail sent."}; optional:
 *  201 {access, refresh, user}. */
export function signUp({ username, email, password1, password2 }, opts) {
  return call("/api/auth/registration/", { username, email, password1, password2: password2 ?? password1 }, opts);
}

/** The key from the confirmation link (ACCOUNT_EMAIL_CONFIRMATION_URL's {key}): 200 {"detail": "ok"},
 *  404 when bad, expired or already used. */
export function verifyEmail(key, opts) {
  return call("/api/auth/registration/verify-email/", { key }, opts);
}

/** Sends the confirmation email again (always 200: it does not tell whether the address exists). */
export function resendEmail(email, opts) {
  return call("/api/auth/registration/resend-email/", { email }, opts);
}

/** Username or email (whichever the person typed) and password: 200 {access, refresh, user}. */
export function logIn(login, password, opts) {
  const who = String(login).includes("@") ? { email: login } : { username: login };
  return call("/api/auth/login/", { ...who, password }, opts);
}

/** Always 200 for a well-formed address: the email goes only to an active user's address. */
export function requestPasswordReset(email, opts) {
  return call("/api/auth/password/reset/", { email }, opts);
}

/** uid and token from the reset link (PASSWORD_RESET_CONFIRM_URL's {uid} and {token}). */
export function confirmPasswordReset({ uid, token, new_password1, new_password2 }, opts) {
  return call(
    "/api/auth/password/reset/confirm/",
    { uid, token, new_password1, new_password2: new_password2 ?? new_password1 },
    opts,
  );
}

/** Signed in (the access token): new password twice. */
export function changePassword(accessToken, new_password1, new_password2, opts) {
  return call(
    "/api/auth/password/change/",
    { new_password1, new_password2: new_password2 ?? new_password1 },
    { ...opts, token: accessToken },
  );
}

/** Ends the login: blacklists the refresh token. */
export function logOut(refresh, opts) {
  return call("/api/auth/logout/", { refresh }, opts);
}

/** DRF's error body as { field: "message message", ... } ("form" for the non-field ones). */
export function fieldErrors(data) {
  const out = {};
  if (!data || typeof data !== "object") return { form: "Something went wrong. Try again." };
  for (const [field, value] of Object.entries(data)) {
    const name = field === "non_field_errors" || field === "detail" ? "form" : field;
    const text = Array.isArray(value) ? value.join(" ") : String(value);
    out[name] = out[name] ? `${out[name]} ${text}` : text;
  }
  return out;
}

/** Auth.js Credentials `authorize()`: a username or an email address, and the password. Returns
 *  the user object Auth.js keeps (the seed's shape: id, token, refresh), or null: wrong
 *  credentials, and also an address not confirmed yet under mandatory verification (call
 *  `logIn()` yourself to tell the two apart: {"non_field_errors": ["E-mail is not verified."]}). */
export async function authorize(credentials, opts) {
  const login = credentials?.username ?? credentials?.email;
  if (!login || !credentials?.password) return null;
  const res = await logIn(String(login), String(credentials.password), opts);
  if (!res.ok) return null;
  const { access, refresh, user } = res.data;
  return { id: String(user.pk), name: user.username, email: user.email, token: access, refresh };
}
