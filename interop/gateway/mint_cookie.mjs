// Mint an Auth.js v5 session cookie with the real @auth/core `encode` (what Auth.js writes into
// `authjs.session-token`). Reads {"claims": {...}, "secret": "...", "salt": "authjs.session-token",
// "maxAge": seconds?} as JSON on stdin; prints the cookie value.
import { encode } from "@auth/core/jwt";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { claims, secret, salt, maxAge } = JSON.parse(input);
const token = await encode({ token: claims, secret, salt, ...(maxAge !== undefined && { maxAge }) });
process.stdout.write(token);
