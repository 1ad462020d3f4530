// Next.js (App Router) entry point for Auth.js v5 (`next-auth@5`).
//
//   app/api/auth/[...nextauth]/route.ts:
//     export { GET, POST } from "@/auth"        // or: import { handlers } from "@/auth"; export const { GET, POST } = handlers
//
// The config itself lives in ./authbridge-config.mjs so that plain Node (the
// interop tests) can hand the very same object to @auth/core's Auth().
import NextAuth from "next-auth";
import "next-auth/jwt"; // makes the JWT augmentation below resolvable
import GitHub from "next-auth/providers/github";
import { createAuthbridgeConfig } from "./authbridge-config.mjs";

declare module "next-auth" {
  interface User {
    /** Django's username, from GET /api/me/ at sign-in. */
    username?: string;
    /** Django's is_staff, when authbridge's /api/me/ reports it. */
    is_staff?: boolean;
  }
  interface Session {
    /** simplejwt access token for calling the Django API: `Authorization: Bearer ${session.accessToken}` */
    accessToken?: string;
    /** "RefreshTokenError" when the refresh token was rejected: sign the user in again */
    error?: string;
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    accessToken?: string;
    refreshToken?: string;
    accessTokenExpires?: number;
    error?: string;
    username?: string;
    is_staff?: boolean;
  }
}

export const config = createAuthbridgeConfig({
  // Credentials (Django username/password) are always on. The generic OIDC
  // provider is enabled by AUTH_OIDC_ISSUER / AUTH_OIDC_ID / AUTH_OIDC_SECRET.
  // Any other OAuth provider goes through authbridge's /api/users/sync too:
  providers: process.env.AUTH_GITHUB_ID ? [GitHub] : [],
});

export const { handlers, auth, signIn, signOut } = NextAuth(config);
export const { GET, POST } = handlers;
