#![allow(clippy::unwrap_used)]

use super::super::schema::Section;
use super::super::Settings;
use super::*;

const SECRET: &str = "k3Jq9vX2mP8sT4wZ7yB1nC6dF0gH5jL2aQ";

fn load(file: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authbridge.toml");
    std::fs::write(&path, file).unwrap();
    Settings::load(
        Some(&path),
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
    )
}

#[test]
fn defaults() {
    let s = load("", &[]).unwrap();
    let o = &s.oidc;
    assert!(!o.enabled);
    assert_eq!(
        (o.id_token_lifetime, o.code_lifetime, o.key_overlap),
        (3600, 300, 604_800)
    );
    assert_eq!(
        (o.access_token_lifetime, o.refresh_token_lifetime),
        (None, None)
    );
    assert_eq!(o.id_token_signing_alg, SigningAlg::RS256);
    assert_eq!(o.signing_algorithms, SigningAlg::ALL);
    assert!(!o.email_verified && o.clients.is_empty());
    assert_eq!(o.issuer(None), None);
    assert_eq!(s.branding.product_name, "authbridge");
    assert_eq!(s.branding.logo_url, None);
}

#[test]
fn a_full_section_with_clients() {
    let s = load(
        &format!(
            r##"
AUTHBRIDGE_PUBLIC_URL = "https://auth.example.test"
[oidc]
ENABLED = true
ID_TOKEN_LIFETIME = "10m"
CODE_LIFETIME = 60
ACCESS_TOKEN_LIFETIME = 900
ID_TOKEN_SIGNING_ALG = "EdDSA"
SIGNING_ALGORITHMS = ["EdDSA", "RS256"]
KEY_OVERLAP = "1d"
EMAIL_VERIFIED = true

[[oidc.clients]]
client_id = "web"
client_name = "The web app"
client_secret = "{SECRET}"
redirect_uris = ["https://app.example.test/api/auth/callback/authbridge"]
post_logout_redirect_uris = ["https://app.example.test/"]
first_party = true

[[oidc.clients]]
client_id = "dev"
public = true
redirect_uris = ["http://127.0.0.1:3000/cb", "http://localhost:3000/cb"]
id_token_signed_response_alg = "RS256"

[branding]
PRODUCT_NAME = "Example"
LOGO_URL = "/static/logo.svg"
PRIMARY_COLOR = "#A0B1C2"
"##
        ),
        &[("AUTHBRIDGE_OIDC_CODE_LIFETIME", "120")],
    )
    .unwrap();
    let o = &s.oidc;
    assert!(o.enabled && o.email_verified);
    assert_eq!(
        o.issuer(s.edge.public_origin.as_deref()),
        Some("https://auth.example.test")
    );
    assert_eq!(
        (o.id_token_lifetime, o.code_lifetime, o.key_overlap),
        (600, 120, 86_400)
    );
    assert_eq!(o.access_token_lifetime, Some(900));
    assert_eq!(o.signing_algorithms, [SigningAlg::EdDSA, SigningAlg::RS256]);

    let web = o.clients[0].to_client();
    assert_eq!(
        (web.client_id.as_str(), web.name.as_str()),
        ("web", "The web app")
    );
    assert!(web.check_secret(Some(SECRET)) && !web.check_secret(Some("other")));
    assert!(web.first_party);
    assert!(web
        .redirect_uri("https://app.example.test/api/auth/callback/authbridge")
        .is_some());
    assert!(web
        .post_logout_redirect_uri("https://app.example.test/")
        .is_some());
    let dev = o.clients[1].to_client();
    assert!(dev.is_public() && dev.check_secret(None));
    assert_eq!(dev.name, "dev");
    assert_eq!(dev.id_token_alg, Some(SigningAlg::RS256));
    assert_eq!(dev.redirect_uris.len(), 2);

    assert_eq!(s.branding.product_name, "Example");
    assert_eq!(s.branding.logo_url.as_deref(), Some("/static/logo.svg"));
    assert_eq!(s.branding.primary_color, "#a0b1c2");
}

#[test]
fn clients_from_the_environment_and_an_explicit_issuer() {
    let clients = format!(
        r#"[{{"client_id": "a", "client_secret": "{SECRET}", "redirect_uris": ["https://a.test/cb"]}}]"#
    );
    let s = load(
        "",
        &[
            ("AUTHBRIDGE_OIDC_ENABLED", "true"),
            ("AUTHBRIDGE_OIDC_ISSUER", "https://example.test/auth"),
            ("AUTHBRIDGE_PUBLIC_URL", "https://other.test"),
            ("AUTHBRIDGE_OIDC_clients", &clients),
            ("AUTHBRIDGE_BRANDING_PRIMARY_COLOR", "#fff"),
        ],
    )
    .unwrap();
    assert_eq!(s.oidc.clients[0].client_id, "a");
    assert_eq!(
        s.oidc.issuer(Some("https://other.test")),
        Some("https://example.test/auth")
    );
    assert_eq!(s.branding.primary_color, "#fff");
}

#[test]
fn refusals_name_the_key() {
    let client = |extra: &str| {
        format!(
            "[[oidc.clients]]\nclient_id = \"c\"\nredirect_uris = [\"https://a.test/cb\"]\n{extra}"
        )
    };
    let secret = format!("client_secret = \"{SECRET}\"\n");
    for (file, env, want) in [
        ("[oidc]\nENABLED = true\n".to_string(), vec![], "OIDC.ISSUER"),
        (String::new(), vec![("AUTHBRIDGE_OIDC_ISSUER", "http://auth.test")], "https"),
        (String::new(), vec![("AUTHBRIDGE_OIDC_ISSUER", "https://auth.test/?x")], "query"),
        (String::new(), vec![("AUTHBRIDGE_OIDC_CODE_LIFETIME", "601")], "OIDC.CODE_LIFETIME"),
        (String::new(), vec![("AUTHBRIDGE_OIDC_ID_TOKEN_SIGNING_ALG", "HS256")], "HS256"),
        (String::new(), vec![("AUTHBRIDGE_OIDC_SIGNING_ALGORITHMS", "EdDSA")], "ID_TOKEN_SIGNING_ALG"),
        (String::new(), vec![("AUTHBRIDGE_OIDC_KEY_OVERLAP", "60")], "KEY_OVERLAP"),
        (String::new(), vec![("AUTHBRIDGE_OIDC_ENABLD", "1")], "did you mean ENABLED"),
        (client(""), vec![], "client_secret"),
        (client(&format!("{secret}public = true\n")), vec![], "public client"),
        (client("client_secret = \"short\"\n"), vec![], "characters"),
        (client(&format!("{secret}redirect_uri = []\n")), vec![], "did you mean redirect_uris"),
        (
            "[[oidc.clients]]\nclient_id = \"c\"\npublic = true\nredirect_uris = [\"http://a.test/cb\"]\n"
                .to_string(),
            vec![],
            "https",
        ),
        (
            "[[oidc.clients]]\nclient_id = \"c\"\npublic = true\nredirect_uris = []\n".to_string(),
            vec![],
            "at least one",
        ),
        (
            "[[oidc.clients]]\nclient_id = \"a b\"\npublic = true\nredirect_uris = [\"https://a.test/\"]\n"
                .to_string(),
            vec![],
            "printable",
        ),
        (format!("{}{}", client(&secret), client(&secret)), vec![], "declared twice"),
        (
            client(&format!("{secret}id_token_signed_response_alg = \"ES256\"\n"))
                + "[oidc]\nSIGNING_ALGORITHMS = [\"RS256\"]\n",
            vec![],
            "SIGNING_ALGORITHMS",
        ),
        (String::new(), vec![("AUTHBRIDGE_BRANDING_PRIMARY_COLOR", "red;}")], "PRIMARY_COLOR"),
        (String::new(), vec![("AUTHBRIDGE_BRANDING_LOGO_URL", "//evil.test/x.png")], "LOGO_URL"),
        (String::new(), vec![("AUTHBRIDGE_BRANDING_LOGO_URL", "http://a.test/x.png")], "LOGO_URL"),
        (String::new(), vec![("AUTHBRIDGE_BRANDING_LOGO_URL", "/x\" onload=\"y")], "LOGO_URL"),
        (String::new(), vec![("AUTHBRIDGE_BRANDING_PRODUCT_NAME", " ")], "PRODUCT_NAME"),
    ] {
        let err = match load(&file, &env) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted: {file} {env:?}"),
        };
        assert!(err.contains(want), "{file} {env:?}: {err}");
    }
    // https logos and an issuer on loopback http are fine.
    assert!(load(
        "",
        &[("AUTHBRIDGE_BRANDING_LOGO_URL", "https://cdn.test/logo.svg")]
    )
    .is_ok());
    assert!(load("", &[("AUTHBRIDGE_OIDC_ISSUER", "http://127.0.0.1:8080")]).is_ok());
}

#[test]
fn every_key_has_a_doc_line_and_client_keys_are_documented() {
    fn check<S: Section>() {
        for key in S::KEYS {
            assert!(!key.doc.trim().is_empty(), "{} has no doc line", key.name);
        }
    }
    check::<OidcSettings>();
    check::<ClientConfig>();
    check::<BrandingSettings>();
    // The client keys sit in their own table of docs/configuration.md (the documentation test
    // reads one level of tables; this covers the nested one).
    let doc = include_str!("../../../../docs/configuration.md");
    let section = doc
        .split("### `[[oidc.clients]]`")
        .nth(1)
        .expect("docs/configuration.md has a [[oidc.clients]] section");
    let section = section.split("\n## ").next().unwrap_or(section);
    for key in ClientConfig::all_names() {
        assert!(
            section.contains(&format!("| `{key}`")),
            "{key} is not documented"
        );
    }
}

#[test]
fn a_relying_partys_oidc_variables_are_not_ours() {
    // mozilla-django-oidc's settings in a shared environment: neither read nor refused.
    let s = load(
        "",
        &[
            ("OIDC_RP_CLIENT_ID", "django"),
            (
                "OIDC_OP_TOKEN_ENDPOINT",
                "http://127.0.0.1:8080/oauth2/token",
            ),
            ("OIDC_ENABLED", "yes-but-not-ours"),
            ("BRANDING_PRODUCT_NAME", "not ours either"),
        ],
    )
    .unwrap();
    assert!(!s.oidc.enabled);
    assert_ne!(s.branding.product_name, "not ours either");
    // Ours, with a typo, is still refused with the nearest name.
    let err = load("", &[("AUTHBRIDGE_OIDC_ENABLD", "1")]).unwrap_err();
    assert!(err.to_string().contains("ENABLED"), "{err}");
}
