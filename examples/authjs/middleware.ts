// Next.js 14/15 only (Next.js 16 renamed this file to proxy.ts and warns on every start: use
// proxy.ts there, never both). Next.js middleware: run Auth.js on every page request so that an access-token
// refresh done by the jwt callback is written back to the browser.
//
// React Server Components cannot set cookies: when `auth()` refreshes inside a
// server component, the rotated refresh token is dropped and the browser keeps
// sending the old one. authbridge answers such a repeat with the same successor
// pair for SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD seconds, but after that window
// a replay revokes the whole login. With this middleware the refresh happens
// here first and its Set-Cookie reaches the browser.
export { auth as middleware } from "./auth";

export const config = {
  // Everything except Next.js internals and static files.
  matcher: ["/((?!_next/static|_next/image|favicon.ico|.*\\.(?:png|jpg|jpeg|gif|svg|webp|ico|css|js)$).*)"],
};
