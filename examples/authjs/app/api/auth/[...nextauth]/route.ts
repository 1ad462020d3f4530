// Auth.js's routes (/api/auth/signin, /api/auth/callback/…, /api/auth/session, …).
export { GET, POST } from "@/auth";
