//! Tokens minted by the real @auth/core and next-auth v4
//! (fixtures/authjs_tokens.json, made by fixtures/mint/mint.mjs).
#![allow(clippy::unwrap_used)]

use authjs_jwe::{
    chunk_cookie, decrypt_compact, derive_v4_key, derive_v5_key, key_thumbprint, reassemble_chunks,
    Enc, Flavor, SessionDecoder, SessionError, V4_CHUNK_SIZE, V4_COOKIE_NAMES, V5_CHUNK_SIZE,
    V5_COOKIE_NAMES,
};
use serde_json::{Map, Value};

const FIXTURES: &str = include_str!("../fixtures/authjs_tokens.json");

struct Fixture {
    id: String,
    v5: bool,
    cookie_name: String,
    mint_secret: String,
    decoder_secrets: Vec<String>,
    expect_ok: bool,
    header: Map<String, Value>,
    claims: Option<Map<String, Value>>,
    input_claims: Map<String, Value>,
    token: String,
    set_cookies: Vec<(String, String)>,
}

fn fixtures() -> Vec<Fixture> {
    let doc: Value = serde_json::from_str(FIXTURES).unwrap();
    let s = |v: &Value| v.as_str().unwrap().to_owned();
    doc["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Fixture {
            id: s(&f["id"]),
            v5: f["flavor"] == "v5",
            cookie_name: s(&f["cookie_name"]),
            mint_secret: s(&f["mint_secret"]),
            decoder_secrets: f["decoder_secrets"]
                .as_array()
                .unwrap()
                .iter()
                .map(s)
                .collect(),
            expect_ok: f["expect"] == "ok",
            header: f["header"].as_object().unwrap().clone(),
            claims: f.get("claims").and_then(Value::as_object).cloned(),
            input_claims: f["input_claims"].as_object().unwrap().clone(),
            token: s(&f["token"]),
            set_cookies: f["set_cookies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (s(&p[0]), s(&p[1])))
                .collect(),
        })
        .collect()
}

fn decoder(secrets: &[String]) -> SessionDecoder {
    let refs: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
    SessionDecoder::new(&refs)
}

fn enc_of(header: &Map<String, Value>) -> Enc {
    Enc::from_name(header["enc"].as_str().unwrap()).unwrap()
}

/// The minting key, and the claims decrypted with it (no claim checks).
fn raw_claims(f: &Fixture) -> Map<String, Value> {
    let enc = enc_of(&f.header);
    let key = if f.v5 {
        derive_v5_key(f.mint_secret.as_bytes(), &f.cookie_name, enc)
    } else {
        derive_v4_key(f.mint_secret.as_bytes())
    };
    let (header, plaintext) = decrypt_compact(&f.token, &key).unwrap();
    assert_eq!(header.enc, enc, "{}", f.id);
    assert_eq!(
        header.kid.as_deref(),
        f.header.get("kid").and_then(Value::as_str),
        "{}",
        f.id
    );
    if let Some(kid) = &header.kid {
        // Auth.js's kid is exactly our thumbprint of the derived key.
        assert_eq!(kid, &key_thumbprint(&key), "{}", f.id);
    }
    serde_json::from_slice(&plaintext).unwrap()
}

fn num(claims: &Map<String, Value>, k: &str) -> i64 {
    claims[k].as_i64().unwrap()
}

#[test]
fn fixture_file_covers_the_cases() {
    let all = fixtures();
    assert!(all.len() >= 21, "{}", all.len());
    for name in V5_COOKIE_NAMES {
        for kind in [
            "basic",
            "long-chunked",
            "unicode",
            "expired",
            "rotated-secret",
            "a256gcm-kid",
            "a256gcm-nokid",
            "cbc-nokid",
        ] {
            let id = format!("v5-{kind}@{name}");
            assert!(all.iter().any(|f| f.id == id), "missing {id}");
        }
    }
    for kind in [
        "basic",
        "long-chunked",
        "unicode",
        "expired",
        "rotated-secret",
    ] {
        let id = format!("v4-{kind}");
        assert!(all.iter().any(|f| f.id == id), "missing {id}");
    }
}

#[test]
fn every_fixture_decodes_as_the_library_did() {
    for f in fixtures() {
        let dec = decoder(&f.decoder_secrets);
        let raw = raw_claims(&f);
        // The library kept the input claims and added iat/exp/jti.
        for (k, v) in &f.input_claims {
            assert_eq!(raw.get(k), Some(v), "{}: claim {k}", f.id);
        }
        let (iat, exp) = (num(&raw, "iat"), num(&raw, "exp"));
        assert!(raw["jti"].is_string(), "{}", f.id);

        if f.expect_ok {
            let want = f.claims.as_ref().unwrap();
            assert_eq!(&raw, want, "{}", f.id);
            let got = dec
                .decode_cookie(&f.token, &f.cookie_name, iat + 60)
                .unwrap();
            assert_eq!(&got, want, "{}", f.id);
            assert_eq!(
                serde_json::to_string(&got).unwrap(),
                serde_json::to_string(want).unwrap(),
                "{}: member order",
                f.id
            );
            let (flavor, got) = dec.decode_bearer(&f.token, iat + 60).unwrap();
            assert_eq!(&got, want, "{}", f.id);
            let want_flavor = if f.v5 {
                Flavor::V5 {
                    cookie_name: V5_COOKIE_NAMES
                        .into_iter()
                        .find(|n| *n == f.cookie_name)
                        .unwrap(),
                }
            } else {
                Flavor::V4
            };
            assert_eq!(flavor, want_flavor, "{}", f.id);
        } else {
            // Minted already expired (maxAge -3600): refused at mint time.
            assert!(f.claims.is_none(), "{}", f.id);
            assert!(exp < iat, "{}", f.id);
            assert_eq!(
                dec.decode_cookie(&f.token, &f.cookie_name, iat),
                Err(SessionError::Expired),
                "{}",
                f.id
            );
            assert_eq!(
                dec.decode_bearer(&f.token, iat).map(|_| ()),
                Err(SessionError::Expired),
                "{}",
                f.id
            );
        }

        // The 15 s tolerance, both sides of it.
        for (now, ok) in [
            (exp - 1, true),
            (exp, true),
            (exp + 10, true),
            (exp + 14, true),
            (exp + 15, false),
            (exp + 20, false),
            (exp + 3600, false),
        ] {
            let r = dec.decode_cookie(&f.token, &f.cookie_name, now);
            if ok {
                assert_eq!(r.unwrap(), raw, "{} at exp{:+}", f.id, now - exp);
            } else {
                assert_eq!(
                    r,
                    Err(SessionError::Expired),
                    "{} at exp{:+}",
                    f.id,
                    now - exp
                );
            }
        }
    }
}

#[test]
fn fixtures_refuse_wrong_salt_flavor_and_secret() {
    for f in fixtures() {
        let dec = decoder(&f.decoder_secrets);
        let now = num(&raw_claims(&f), "iat");
        let names: Vec<&str> = V5_COOKIE_NAMES
            .iter()
            .chain(V4_COOKIE_NAMES.iter())
            .copied()
            .collect();
        for name in names {
            if name == f.cookie_name || (!f.v5 && V4_COOKIE_NAMES.contains(&name)) {
                continue;
            }
            // A v5 token read under the other v5 name (salt), or as v4; a v4
            // token read as v5.
            assert_eq!(
                dec.decode_cookie(&f.token, name, now),
                Err(SessionError::Undecryptable),
                "{} as {name}",
                f.id
            );
        }
        // Unknown secret.
        let wrong = decoder(&["not-the-secret".to_owned()]);
        assert_eq!(
            wrong.decode_cookie(&f.token, &f.cookie_name, now),
            Err(SessionError::Undecryptable),
            "{}",
            f.id
        );
        assert_eq!(
            wrong.decode_bearer(&f.token, now).map(|_| ()),
            Err(SessionError::Undecryptable),
            "{}",
            f.id
        );
        // No secrets at all.
        let none = SessionDecoder::new(&[]);
        assert_eq!(
            none.decode_cookie(&f.token, &f.cookie_name, now),
            Err(SessionError::Undecryptable),
            "{}",
            f.id
        );
        // A rotated-secret token needs the old secret.
        if f.id.contains("rotated") {
            let only_new = decoder(&f.decoder_secrets[..1]);
            assert_eq!(
                only_new.decode_cookie(&f.token, &f.cookie_name, now),
                Err(SessionError::Undecryptable),
                "{}",
                f.id
            );
            // Order does not matter: kid (v5) or trying each (v4).
            let reversed: Vec<String> = f.decoder_secrets.iter().rev().cloned().collect();
            let claims = decoder(&reversed)
                .decode_cookie(&f.token, &f.cookie_name, now)
                .unwrap();
            assert_eq!(Some(&claims), f.claims.as_ref(), "{}", f.id);
        }
    }
}

#[test]
fn fixture_chunking_matches_the_library() {
    for f in fixtures() {
        let size = if f.v5 { V5_CHUNK_SIZE } else { V4_CHUNK_SIZE };
        assert_eq!(
            chunk_cookie(&f.cookie_name, &f.token, size),
            f.set_cookies,
            "{}",
            f.id
        );
        if f.id.contains("long-chunked") {
            assert!(f.set_cookies.len() >= 2, "{}", f.id);
            assert_eq!(f.set_cookies[0].1.len(), size, "{}", f.id);
        } else {
            assert_eq!(f.set_cookies.len(), 1, "{}", f.id);
        }
        // Reassemble from a Cookie header in any order, among other cookies.
        let mut jar: Vec<(&str, &str)> =
            vec![("authjs.csrf-token", "abc%7Cdef"), ("theme", "dark")];
        jar.extend(
            f.set_cookies
                .iter()
                .rev()
                .map(|(n, v)| (n.as_str(), v.as_str())),
        );
        let joined = reassemble_chunks(jar.iter().copied(), &f.cookie_name).unwrap();
        assert_eq!(joined.as_deref(), Some(f.token.as_str()), "{}", f.id);
        if f.expect_ok {
            let dec = decoder(&f.decoder_secrets);
            let now = num(f.claims.as_ref().unwrap(), "iat");
            let claims = dec
                .decode_cookie(&joined.unwrap(), &f.cookie_name, now)
                .unwrap();
            assert_eq!(Some(&claims), f.claims.as_ref(), "{}", f.id);
        }
    }
}

#[test]
fn encode_v5_header_is_byte_identical_to_auth_js() {
    for f in fixtures() {
        if !f.v5 || !f.id.starts_with("v5-basic@") {
            continue;
        }
        let dec = decoder(&f.decoder_secrets);
        let claims = f.claims.clone().unwrap();
        let ours = dec.encode_v5(&claims, &f.cookie_name, &[9u8; 16]).unwrap();
        let theirs_header = f.token.split('.').next().unwrap();
        assert_eq!(ours.split('.').next().unwrap(), theirs_header, "{}", f.id);
        // Same claims bytes too (serde_json with preserve_order and JSON.stringify agree here).
        let key = derive_v5_key(f.mint_secret.as_bytes(), &f.cookie_name, Enc::A256CbcHs512);
        let (_, theirs_pt) = decrypt_compact(&f.token, &key).unwrap();
        let (_, ours_pt) = decrypt_compact(&ours, &key).unwrap();
        assert_eq!(ours_pt, theirs_pt, "{}", f.id);
        // Same length: same plaintext length, same IV/tag sizes.
        assert_eq!(ours.len(), f.token.len(), "{}", f.id);
    }
}
