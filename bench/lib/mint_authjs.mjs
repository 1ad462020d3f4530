// Mint one Auth.js v5 session cookie with the real @auth/core `encode` (what Auth.js's own
// session callback writes), for the authjs_session scenario.
//
//   node mint_authjs.mjs NODE_MODULES_DIR USER_ID USERNAME
//   env AUTH_SECRET: the secret authbridge is given
//
// Prints the Cookie header value `authjs.session-token=<JWE>` (the http cookie name, which is
// also the HKDF salt). Claims are what the Credentials provider + default jwt callback produce
// for a Django user: name, email, sub = the Django user id as a string, plus iat/exp/jti.
import path from "node:path"
import { pathToFileURL } from "node:url"

const [modules, userId, username] = process.argv.slice(2)
const secret = process.env.AUTH_SECRET
if (!modules || !userId || !username || !secret) {
  console.error("usage: AUTH_SECRET=... node mint_authjs.mjs NODE_MODULES_DIR USER_ID USERNAME")
  process.exit(2)
}
const jwt = await import(pathToFileURL(path.join(modules, "@auth/core/jwt.js")).href)
const salt = "authjs.session-token"
const token = await jwt.encode({
  token: { name: username, email: `${username}@example.com`, picture: null, sub: String(userId) },
  secret,
  salt,
})
// Round-trip through the library's decode so a bad mint fails here, not as 401s under load.
const back = await jwt.decode({ token, secret, salt })
if (back?.sub !== String(userId)) {
  console.error("mint_authjs: @auth/core could not decode its own token")
  process.exit(1)
}
process.stdout.write(`${salt}=${token}\n`)
