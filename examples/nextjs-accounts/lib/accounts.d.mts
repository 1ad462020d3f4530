export type Result<T = Record<string, unknown>> = { ok: boolean; status: number; data: T | null };
export type Options = { baseUrl?: string; fetchImpl?: typeof fetch };
export type AccountUser = { pk: number; username: string; email: string; first_name: string; last_name: string };
export type Tokens = { access: string; refresh: string; user: AccountUser };

export function authbridgeUrl(env?: Record<string, string | undefined>): string;
export function signUp(
  fields: { username: string; email: string; password1: string; password2?: string },
  opts?: Options,
): Promise<Result>;
export function verifyEmail(key: string, opts?: Options): Promise<Result>;
export function resendEmail(email: string, opts?: Options): Promise<Result>;
export function logIn(login: string, password: string, opts?: Options): Promise<Result<Tokens>>;
export function requestPasswordReset(email: string, opts?: Options): Promise<Result>;
export function confirmPasswordReset(
  fields: { uid: string; token: string; new_password1: string; new_password2?: string },
  opts?: Options,
): Promise<Result>;
export function changePassword(access: string, p1: string, p2?: string, opts?: Options): Promise<Result>;
export function logOut(refresh: string, opts?: Options): Promise<Result>;
export function fieldErrors(data: unknown): Record<string, string>;
export function authorize(
  credentials: Partial<Record<"username" | "email" | "password", unknown>> | undefined,
  opts?: Options,
): Promise<{ id: string; name: string; email: string; token: string; refresh: string } | null>;
