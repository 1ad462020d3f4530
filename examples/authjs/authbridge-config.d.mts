// Types for authbridge-config.mjs (TypeScript picks this file up next to the .mjs).
import type { AuthConfig } from "@auth/core";
import type { Provider } from "@auth/core/providers";

export interface AuthbridgeConfigOptions {
  /** authbridge base URL; default: process.env.AUTHBRIDGE_URL, read when a request needs it. */
  authbridgeUrl?: string;
  /** Service token for /api/users/sync; default: process.env.AUTHBRIDGE_SERVICE_TOKEN. */
  serviceToken?: string;
  /** Auth.js base path; default "/api/auth" (Next.js). Bare @auth/core uses "/auth". */
  basePath?: string;
  /** Refresh this many seconds before the access token expires (default 30, at most half its lifetime). */
  refreshSkewSeconds?: number;
  /** fetch used to call authbridge (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /**
   * Generic OIDC provider. Default: from AUTH_OIDC_ISSUER / AUTH_OIDC_ID / AUTH_OIDC_SECRET
   * when AUTH_OIDC_ISSUER is set; `false` disables it.
   */
  oidc?:
    | false
    | {
        id?: string;
        name?: string;
        issuer: string;
        clientId?: string;
        clientSecret?: string;
        checks?: Array<"pkce" | "state" | "nonce" | "none">;
      };
  /** Extra Auth.js providers; every oauth/oidc provider signs in through /api/users/sync. */
  providers?: Provider[];
  /** Whether the provider vouches for profile.email (default: the OIDC `email_verified` claim). */
  emailVerified?: (profile: any, account: any) => boolean;
}

/** The error put into the token and session when authbridge rejects the refresh token. */
export declare const REFRESH_TOKEN_ERROR: "RefreshTokenError";

/** Claims of a JWT, read without verification (null if unreadable). */
export declare function jwtClaims(jwt: string): Record<string, unknown> | null;

/** `exp` of a JWT in seconds since the epoch, or null. */
export declare function jwtExpiry(jwt: string): number | null;

/** Build the Auth.js config (session strategy "jwt", credentials + optional OIDC providers, callbacks). */
export declare function createAuthbridgeConfig(options?: AuthbridgeConfigOptions): AuthConfig;

/** createAuthbridgeConfig() from the environment. */
declare const authConfig: AuthConfig;
export default authConfig;
