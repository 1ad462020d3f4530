//! The OpenID Connect provider's command line, black-box: `client add/list/remove` and
//! `keys rotate/list` on the real binary, then `serve` with the provider on, which generates only
//! the keys that are missing and uses those the CLI stored.

use crate::support::binary::{run, text, Served};
use crate::support::{backends, TestDb, SECRET};
use authbridge::oidc::client::{ClientAuth, SecretHash};
use authbridge::storage::UserTable;
use std::process::Output;

fn ok(out: &Output) -> String {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(ok(out).trim()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_are_added_listed_and_removed_with_their_secret_shown_once() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("DJANGO_SECRET_KEY", SECRET),
        ];
        let cli = |args: &[&str]| run(dir.path(), &env, args, "");

        let web = json(&cli(&[
            "client",
            "add",
            "Web app",
            "--redirect-uri",
            "https://app.test/api/auth/callback/ab",
            "--redirect-uri",
            "http://127.0.0.1:3000/cb",
            "--first-party",
            "--post-logout-uri",
            "https://app.test/",
            "--json",
        ]));
        let web_id = web["client_id"].as_str().unwrap().to_string();
        let secret = web["client_secret"].as_str().unwrap().to_string();
        assert_eq!(web.as_object().unwrap().len(), 2, "{web}");
        assert_eq!(secret.len(), 43);

        let spa = json(&cli(&[
            "client",
            "add",
            "SPA",
            "--redirect-uri",
            "http://localhost:5173/cb",
            "--public",
            "--json",
        ]));
        let spa_id = spa["client_id"].as_str().unwrap().to_string();
        assert!(spa.get("client_secret").is_none(), "{spa}");
        assert_ne!(web_id, spa_id);

        // The human form prints the secret too, once, and says so.
        let human = ok(&cli(&[
            "client",
            "add",
            "Other",
            "--redirect-uri",
            "https://o.test/cb",
        ]));
        assert!(
            human.contains("client_id:") && human.contains("client_secret:"),
            "{human}"
        );
        assert!(human.contains("shown this once"), "{human}");

        // Registration rules: no plain http off loopback, no fragment; nothing stored.
        for bad in ["http://app.test/cb", "https://app.test/cb#x", "/cb"] {
            let out = cli(&["client", "add", "Bad", "--redirect-uri", bad]);
            assert!(!out.status.success());
            assert!(text(&out).1.contains("--redirect-uri"), "{}", text(&out).1);
        }
        let out = cli(&["client", "add", "No URI"]);
        assert!(!out.status.success());

        // Only the secret's SHA-256 is stored.
        let store = authbridge::storage::connect(&db.url, UserTable::default())
            .await
            .unwrap();
        let stored = store.client(&web_id).await.unwrap().unwrap();
        assert_eq!(stored.auth, ClientAuth::Secret(SecretHash::of(&secret)));
        assert!(stored.first_party);
        assert_eq!(stored.name, "Web app");
        assert_eq!(stored.redirect_uris.len(), 2);
        assert_eq!(
            stored.post_logout_redirect_uris[0].as_str(),
            "https://app.test/"
        );
        let public = store.client(&spa_id).await.unwrap().unwrap();
        assert!(public.is_public() && !public.first_party);

        let listed = cli(&["client", "list"]);
        let list_text = ok(&listed);
        let listed_json = json(&cli(&["client", "list", "--json"]));
        for shown in [&list_text, &listed_json.to_string()] {
            assert!(!shown.contains(&secret), "a secret was listed: {shown}");
            assert!(!shown.contains(&SecretHash::of(&secret).to_hex()));
        }
        assert!(list_text.contains(&web_id) && list_text.contains("\"Web app\""));
        assert!(list_text.contains("public") && list_text.contains("first-party"));
        let ids: Vec<&str> = listed_json
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["client_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 3);
        assert!(ids.contains(&web_id.as_str()) && ids.contains(&spa_id.as_str()));

        ok(&cli(&["client", "remove", &web_id]));
        let again = cli(&["client", "remove", &web_id]);
        assert!(!again.status.success());
        assert!(text(&again).1.contains("no client"), "{}", text(&again).1);
        assert!(store.client(&web_id).await.unwrap().is_none());
        assert_eq!(
            json(&cli(&["client", "list", "--json"]))
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}

/// A client of the config file is listed (marked so) and cannot be removed from the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_clients_are_listed_but_not_removed() {
    let db = TestDb::new("sqlite").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("authbridge.toml");
    std::fs::write(
        &config,
        "[[oidc.clients]]\nclient_id = \"declared\"\npublic = true\n\
         redirect_uris = [\"https://d.test/cb\"]\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("DJANGO_SECRET_KEY", SECRET),
        ("AUTHBRIDGE_CONFIG", config.as_str()),
    ];
    let listed = json(&run(dir.path(), &env, &["client", "list", "--json"], ""));
    assert_eq!(listed[0]["client_id"], "declared");
    assert_eq!(listed[0]["source"], "config");
    let out = run(dir.path(), &env, &["client", "remove", "declared"], "");
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains("[[oidc.clients]]"),
        "{}",
        text(&out).1
    );
}

fn key_lines(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, "  ");
            Some((
                parts.next()?.to_string(),
                parts.next()?.to_string(),
                parts.next()?.to_string(),
            ))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_retire_and_are_used_by_the_server() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("DJANGO_SECRET_KEY", SECRET),
            ("AUTHBRIDGE_OIDC_SIGNING_ALGORITHMS", "RS256,EdDSA"),
            ("AUTHBRIDGE_OIDC_ENABLED", "true"),
            ("AUTHBRIDGE_PUBLIC_URL", "http://127.0.0.1:9"),
        ];
        let cli = |args: &[&str]| run(dir.path(), &env, args, "");
        assert!(ok(&cli(&["keys", "list"])).contains("No keys yet"));

        let first = ok(&cli(&["keys", "rotate"]));
        let added = key_lines(&first);
        assert_eq!(added.len(), 2, "{first}");
        assert!(added.iter().all(|(_, _, state)| state == "active (new)"));
        let rotated = ok(&cli(&["keys", "rotate"]));
        assert!(rotated.contains("retiring until"), "{rotated}");

        let listed = key_lines(&ok(&cli(&["keys", "list"])));
        assert_eq!(listed.len(), 4);
        let state = |kid: &str| {
            listed
                .iter()
                .find(|(k, _, _)| k == kid)
                .map(|(_, _, s)| s.clone())
                .unwrap()
        };
        for (kid, _, _) in &added {
            assert!(state(kid).starts_with("retiring until"), "{listed:?}");
        }
        let mut algs: Vec<&str> = listed
            .iter()
            .filter(|(_, _, s)| s == "active")
            .map(|(_, alg, _)| alg.as_str())
            .collect();
        algs.sort();
        assert_eq!(algs, ["EdDSA", "RS256"]);

        // doctor opens the published keys with this secret, and says when it cannot.
        let doctor = text(&cli(&["doctor"])).0;
        assert!(
            doctor.contains("ok   OIDC signing keys: 4 published, readable; active: EdDSA, RS256"),
            "{doctor}"
        );
        let mut wrong = env.to_vec();
        wrong.retain(|(k, _)| *k != "DJANGO_SECRET_KEY");
        wrong.push((
            "DJANGO_SECRET_KEY",
            "a-different-django-secret-key-0123456789-abcdefghijk!",
        ));
        let doctor = text(&run(dir.path(), &wrong, &["doctor"], "")).0;
        assert!(
            doctor.contains("FAIL OIDC signing keys: 4 of 4 published keys cannot be decrypted"),
            "{doctor}"
        );

        // The server with one more algorithm: it generates ES256 only and keeps the rest.
        let mut serve_env = env.to_vec();
        serve_env.retain(|(k, _)| *k != "AUTHBRIDGE_OIDC_SIGNING_ALGORITHMS");
        let served = Served::start(dir.path(), &serve_env).unwrap_or_else(|e| panic!("{e:?}"));
        drop(served);
        let after = key_lines(&ok(&cli(&["keys", "list"])));
        assert_eq!(after.len(), 5, "{after:?}");
        assert!(after
            .iter()
            .any(|(_, alg, s)| alg == "ES256" && s == "active"));
        for (kid, _, _) in &listed {
            assert!(after.iter().any(|(k, _, _)| k == kid));
        }

        // Under another DJANGO_SECRET_KEY the stored keys are unreadable: the server retires the
        // active ones at once and signs with new keys.
        let mut other_env = serve_env.clone();
        other_env.retain(|(k, _)| *k != "DJANGO_SECRET_KEY");
        let other = "another-django-secret-key-0123456789-abcdefghijklmnop!";
        other_env.push(("DJANGO_SECRET_KEY", other));
        drop(Served::start(dir.path(), &other_env).unwrap_or_else(|e| panic!("{e:?}")));
        let changed = key_lines(&ok(&cli(&["keys", "list"])));
        let active: Vec<_> = changed.iter().filter(|(_, _, s)| s == "active").collect();
        assert_eq!(active.len(), 3, "{changed:?}");
        assert!(active
            .iter()
            .all(|(k, _, _)| !after.iter().any(|(old, _, _)| old == k)));
    }
}
