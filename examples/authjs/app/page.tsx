// A signed-in page: who is signed in comes from the session (filled at sign-in, no extra call),
// and the Django API is called with the session's simplejwt access token.
import { redirect } from "next/navigation";
import { auth, signOut } from "@/auth";

export default async function Home() {
  const session = await auth();
  if (!session?.user || session.error === "RefreshTokenError") redirect("/api/auth/signin");
  const { id, username, email, is_staff } = session.user;

  // DJANGO_API_URL: your Django (e.g. http://127.0.0.1:8000), which accepts authbridge's tokens.
  let django = "DJANGO_API_URL is not set";
  if (process.env.DJANGO_API_URL) {
    const res = await fetch(`${process.env.DJANGO_API_URL}/api/things/`, {
      headers: { Authorization: `Bearer ${session.accessToken}` },
      cache: "no-store",
    });
    django = `${res.status} ${await res.text()}`;
  }

  return (
    <main>
      <h1>Signed in as {username ?? id}</h1>
      <dl>
        <dt>Django user id</dt>
        <dd>{id}</dd>
        <dt>email</dt>
        <dd>{email || "(none)"}</dd>
        <dt>staff</dt>
        <dd>{is_staff === undefined ? "(unknown)" : is_staff ? "yes" : "no"}</dd>
        <dt>GET /api/things/ on Django</dt>
        <dd>
          <pre>{django}</pre>
        </dd>
      </dl>
      <form
        action={async () => {
          "use server";
          await signOut({ redirectTo: "/" });
        }}
      >
        <button type="submit">Sign out</button>
      </form>
    </main>
  );
}
