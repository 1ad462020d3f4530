//! Hostile and broken input: every case is an `Err`, none panics.
#![allow(clippy::unwrap_used)]

use authjs_jwe::{
    decrypt_compact, derive_v4_key, derive_v5_key, encrypt_compact, key_thumbprint,
    reassemble_chunks, stamp_claims, Enc, Flavor, JweError, SessionDecoder, SessionError,
    MAX_CHUNKS, MAX_TOKEN_LEN, V4_COOKIE_NAMES, V5_COOKIE_NAMES,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

const SECRET: &str = "test-secret-change-me";
const OTHER: &str = "previous-secret-rotated-out";
const NOW: i64 = 1_800_000_000;
const V5: &str = V5_COOKIE_NAMES[0];
const V4: &str = V4_COOKIE_NAMES[0];

fn claims() -> Map<String, Value> {
    let mut c =
        json!({"name": "Ada", "email": "ada@example.com", "sub": "1", "accessToken": "tok"})
            .as_object()
            .unwrap()
            .clone();
    stamp_claims(&mut c, NOW, 3600, "00000000-0000-4000-8000-000000000000");
    c
}

fn dec() -> SessionDecoder {
    SessionDecoder::new(&[SECRET.as_bytes()])
}

fn v5_token() -> String {
    dec().encode_v5(&claims(), V5, &[3u8; 16]).unwrap()
}

fn v4_token() -> String {
    dec().encode_v4(&claims(), &[4u8; 12]).unwrap()
}

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// Replace the header segment (the AAD, so crypto would fail too — the
/// point is the error says it was refused *before* crypto).
fn with_header(token: &str, header: &str) -> String {
    let rest = token.split_once('.').unwrap().1;
    format!("{}.{rest}", b64(header))
}

fn replace_part(token: &str, idx: usize, part: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[idx] = part;
    parts.join(".")
}

/// Every way of looking at the token fails, without panicking.
fn all_fail(token: &str) {
    let d = dec();
    for name in V5_COOKIE_NAMES.iter().chain(V4_COOKIE_NAMES.iter()) {
        assert!(
            d.decode_cookie(token, name, NOW).is_err(),
            "{name}: {token:.80}"
        );
    }
    assert!(d.decode_bearer(token, NOW).is_err(), "{token:.80}");
    for key in [
        derive_v5_key(SECRET.as_bytes(), V5, Enc::A256CbcHs512),
        derive_v5_key(SECRET.as_bytes(), V5, Enc::A256Gcm),
        derive_v4_key(SECRET.as_bytes()),
    ] {
        assert!(decrypt_compact(token, &key).is_err(), "{token:.80}");
    }
}

#[test]
fn round_trips() {
    let d = dec();
    assert_eq!(d.decode_cookie(&v5_token(), V5, NOW).unwrap(), claims());
    assert_eq!(d.decode_cookie(&v4_token(), V4, NOW).unwrap(), claims());
    let v5s = d
        .encode_v5(&claims(), V5_COOKIE_NAMES[1], &[5u8; 16])
        .unwrap();
    assert_eq!(
        d.decode_bearer(&v5s, NOW).unwrap(),
        (
            Flavor::V5 {
                cookie_name: V5_COOKIE_NAMES[1]
            },
            claims()
        )
    );
    assert_eq!(
        d.decode_bearer(&v4_token(), NOW).unwrap(),
        (Flavor::V4, claims())
    );
    // Secure and plain v4 names share the salt "".
    assert_eq!(
        d.decode_cookie(&v4_token(), V4_COOKIE_NAMES[1], NOW)
            .unwrap(),
        claims()
    );
}

#[test]
fn empty_and_garbage() {
    for t in [
        "",
        ".",
        "....",
        ".....",
        "a.b.c.d.e",
        "a.b.c",
        "a.b.c.d.e.f",
        "x",
        "ü",
        "\0",
        " ",
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0....",
    ] {
        all_fail(t);
        let e = dec().decode_cookie(t, V5, NOW).unwrap_err();
        assert_eq!(e, SessionError::Malformed, "{t:?}");
    }
}

#[test]
fn non_base64() {
    let t = v5_token();
    let parts: Vec<&str> = t.split('.').collect();
    for idx in [0, 2, 3, 4] {
        for bad in ["!", "=", "+", "/", " ", "%41", "\u{e9}"] {
            // Inserted in the middle, and appended.
            let p = parts[idx];
            let mid = p.len() / 2;
            for seg in [
                format!("{}{bad}{}", &p[..mid], &p[mid..]),
                format!("{p}{bad}"),
            ] {
                let bad_token = replace_part(&t, idx, &seg);
                all_fail(&bad_token);
                assert_eq!(
                    dec().decode_cookie(&bad_token, V5, NOW),
                    Err(SessionError::Malformed),
                    "part {idx} with {bad:?}"
                );
            }
        }
        // Padded.
        let padded = replace_part(&t, idx, &format!("{}==", parts[idx]));
        all_fail(&padded);
    }
}

#[test]
fn every_single_character_change_fails() {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let d = dec();
    for (token, name) in [(v5_token(), V5), (v4_token(), V4)] {
        assert!(d.decode_cookie(&token, name, NOW).is_ok());
        let bytes = token.as_bytes();
        for i in 0..bytes.len() {
            if bytes[i] == b'.' {
                continue;
            }
            let pos = ALPHABET.iter().position(|c| *c == bytes[i]).unwrap();
            // The next alphabet character, and one that flips a high bit.
            for delta in [1, 32] {
                let mut m = bytes.to_vec();
                m[i] = ALPHABET[(pos + delta) % 64];
                let m = String::from_utf8(m).unwrap();
                assert!(
                    d.decode_cookie(&m, name, NOW).is_err(),
                    "byte {i} of {name}"
                );
                assert!(d.decode_bearer(&m, NOW).is_err(), "byte {i} of {name}");
            }
        }
    }
}

#[test]
fn tampered_parts() {
    let d = dec();
    for (token, name) in [(v5_token(), V5), (v4_token(), V4)] {
        let parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let flip = |idx: usize, byte: usize| {
            let mut raw = URL_SAFE_NO_PAD.decode(&parts[idx]).unwrap();
            let n = raw.len();
            raw[byte % n] ^= 0x01;
            replace_part(&token, idx, &URL_SAFE_NO_PAD.encode(raw))
        };
        for idx in [2, 3, 4] {
            for byte in [0, 1, 7, 15, 31, 1000] {
                let t = flip(idx, byte);
                all_fail(&t);
                assert_eq!(
                    d.decode_cookie(&t, name, NOW),
                    Err(SessionError::Undecryptable)
                );
            }
        }
        // A header re-encoded with different whitespace: same meaning, other AAD.
        let header = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[0]).unwrap()).unwrap();
        let spaced = with_header(&token, &header.replace(',', ", "));
        assert_eq!(
            d.decode_cookie(&spaced, name, NOW),
            Err(SessionError::Undecryptable)
        );
        // Swapped ciphertexts between two tokens under the same key.
        let other = if name == V5 {
            dec().encode_v5(&claims(), V5, &[3u8; 16]).unwrap()
        } else {
            dec()
                .encode_v4(
                    &json!({"sub": "2"}).as_object().unwrap().clone(),
                    &[4u8; 12],
                )
                .unwrap()
        };
        let other_ct = other.split('.').nth(3).unwrap();
        if other_ct != parts[3] {
            let t = replace_part(&token, 3, other_ct);
            assert_eq!(
                d.decode_cookie(&t, name, NOW),
                Err(SessionError::Undecryptable)
            );
        }
    }
}

#[test]
fn truncated() {
    let d = dec();
    for (token, name) in [(v5_token(), V5), (v4_token(), V4)] {
        for len in 0..token.len() {
            let t = &token[..len];
            assert!(
                d.decode_cookie(t, name, NOW).is_err(),
                "{name} truncated to {len}"
            );
            assert!(
                d.decode_bearer(t, NOW).is_err(),
                "{name} truncated to {len}"
            );
        }
        // Dropping a whole block of ciphertext, or the tag.
        let parts: Vec<&str> = token.split('.').collect();
        let ct = URL_SAFE_NO_PAD.decode(parts[3]).unwrap();
        let shorter = replace_part(&token, 3, &URL_SAFE_NO_PAD.encode(&ct[..ct.len() - 16]));
        all_fail(&shorter);
        all_fail(&replace_part(&token, 4, ""));
        all_fail(&replace_part(&token, 3, ""));
        all_fail(&replace_part(&token, 2, ""));
        all_fail(&format!("{token}."));
    }
}

#[test]
fn header_policy_is_checked_before_crypto() {
    let cbc = v5_token();
    let gcm = v4_token();
    let cbc_key = derive_v5_key(SECRET.as_bytes(), V5, Enc::A256CbcHs512);
    let cases: &[(&str, JweError)] = &[
        (
            r#"{"alg":"A256KW","enc":"A256CBC-HS512"}"#,
            JweError::UnsupportedAlg,
        ),
        (
            r#"{"alg":"none","enc":"A256CBC-HS512"}"#,
            JweError::UnsupportedAlg,
        ),
        (
            r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#,
            JweError::UnsupportedAlg,
        ),
        (
            r#"{"alg":"PBES2-HS512+A256KW","enc":"A256GCM"}"#,
            JweError::UnsupportedAlg,
        ),
        (r#"{"alg":"DIR","enc":"A256GCM"}"#, JweError::UnsupportedAlg),
        (
            r#"{"alg":"dir ","enc":"A256GCM"}"#,
            JweError::UnsupportedAlg,
        ),
        (r#"{"enc":"A256GCM"}"#, JweError::UnsupportedAlg),
        (r#"{"alg":null,"enc":"A256GCM"}"#, JweError::UnsupportedAlg),
        (
            r#"{"alg":"dir","enc":"A128CBC-HS256"}"#,
            JweError::UnsupportedEnc,
        ),
        (
            r#"{"alg":"dir","enc":"A192CBC-HS384"}"#,
            JweError::UnsupportedEnc,
        ),
        (r#"{"alg":"dir","enc":"A128GCM"}"#, JweError::UnsupportedEnc),
        (r#"{"alg":"dir","enc":"a256gcm"}"#, JweError::UnsupportedEnc),
        (r#"{"alg":"dir"}"#, JweError::UnsupportedEnc),
        (
            r#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#,
            JweError::UnsupportedHeader,
        ),
        (
            r#"{"alg":"dir","enc":"A256GCM","zip":null}"#,
            JweError::UnsupportedHeader,
        ),
        (
            r#"{"alg":"dir","enc":"A256CBC-HS512","crit":["exp"]}"#,
            JweError::UnsupportedHeader,
        ),
        (
            r#"{"alg":"dir","enc":"A256CBC-HS512","crit":[]}"#,
            JweError::UnsupportedHeader,
        ),
        (r#"{"alg":1,"enc":"A256GCM"}"#, JweError::Malformed),
        (
            r#"{"alg":"dir","enc":"A256GCM","kid":7}"#,
            JweError::Malformed,
        ),
        (
            r#"{"alg":"dir","enc":"A256GCM","kid":null}"#,
            JweError::Malformed,
        ),
        (
            r#"{"alg":"dir","enc":"A256GCM","kid":"a","kid":"b"}"#,
            JweError::Malformed,
        ),
        (
            r#"{"alg":"dir","alg":"dir","enc":"A256GCM"}"#,
            JweError::Malformed,
        ),
        (r#"["dir","A256GCM",null,null,null]"#, JweError::Malformed),
        (r#""dir""#, JweError::Malformed),
        ("null", JweError::Malformed),
        ("{", JweError::Malformed),
        ("", JweError::Malformed),
        (
            "{\"alg\":\"dir\",\"enc\":\"A256GCM\"} x",
            JweError::Malformed,
        ),
    ];
    for (header, want) in cases {
        for token in [&cbc, &gcm] {
            let t = with_header(token, header);
            assert_eq!(
                decrypt_compact(&t, &cbc_key).map(|_| ()),
                Err(*want),
                "{header}"
            );
            all_fail(&t);
            assert_eq!(
                dec().decode_cookie(&t, V5, NOW),
                Err(SessionError::Malformed),
                "{header}"
            );
        }
    }
    // An oversized header segment is refused without parsing.
    let big = format!(
        r#"{{"alg":"dir","enc":"A256GCM","x":"{}"}}"#,
        "a".repeat(4000)
    );
    assert_eq!(
        decrypt_compact(&with_header(&gcm, &big), &cbc_key).map(|_| ()),
        Err(JweError::Malformed)
    );
}

#[test]
fn encrypted_key_iv_and_tag_lengths() {
    let cbc = v5_token();
    let gcm = v4_token();
    let k5 = derive_v5_key(SECRET.as_bytes(), V5, Enc::A256CbcHs512);
    let k4 = derive_v4_key(SECRET.as_bytes());
    let enc_b64 = |n: usize| URL_SAFE_NO_PAD.encode(vec![0xa5u8; n]);

    // `dir` has no encrypted key.
    for token in [&cbc, &gcm] {
        let t = replace_part(token, 1, &enc_b64(32));
        assert_eq!(
            decrypt_compact(&t, &k5).map(|_| ()),
            Err(JweError::Malformed)
        );
        all_fail(&t);
    }
    for n in [0, 1, 8, 12, 15, 17, 24, 32] {
        let t = replace_part(&cbc, 2, &enc_b64(n));
        assert_eq!(
            decrypt_compact(&t, &k5).map(|_| ()),
            Err(JweError::InvalidIvLength),
            "cbc iv {n}"
        );
        all_fail(&t);
    }
    for n in [0, 1, 8, 11, 13, 16, 32] {
        let t = replace_part(&gcm, 2, &enc_b64(n));
        assert_eq!(
            decrypt_compact(&t, &k4).map(|_| ()),
            Err(JweError::InvalidIvLength),
            "gcm iv {n}"
        );
        all_fail(&t);
    }
    for n in [0, 1, 16, 31, 33, 64] {
        let t = replace_part(&cbc, 4, &enc_b64(n));
        assert_eq!(
            decrypt_compact(&t, &k5).map(|_| ()),
            Err(JweError::InvalidTagLength),
            "cbc tag {n}"
        );
        all_fail(&t);
    }
    for n in [0, 1, 12, 15, 17, 32] {
        let t = replace_part(&gcm, 4, &enc_b64(n));
        assert_eq!(
            decrypt_compact(&t, &k4).map(|_| ()),
            Err(JweError::InvalidTagLength),
            "gcm tag {n}"
        );
        all_fail(&t);
    }
    // CBC ciphertext must be whole, non-empty blocks.
    for n in [0, 1, 15, 17, 33] {
        let t = replace_part(&cbc, 3, &enc_b64(n));
        assert_eq!(
            decrypt_compact(&t, &k5).map(|_| ()),
            Err(JweError::InvalidCiphertextLength),
            "cbc ct {n}"
        );
        all_fail(&t);
    }
    // Wrong key length for the enc.
    assert_eq!(
        decrypt_compact(&cbc, &k4).map(|_| ()),
        Err(JweError::InvalidKeyLength)
    );
    assert_eq!(
        decrypt_compact(&gcm, &k5).map(|_| ()),
        Err(JweError::InvalidKeyLength)
    );
}

#[test]
fn size_limit() {
    let d = dec();
    let huge = "a".repeat(MAX_TOKEN_LEN + 1);
    assert_eq!(d.decode_cookie(&huge, V5, NOW), Err(SessionError::TooLarge));
    assert_eq!(
        d.decode_bearer(&huge, NOW).map(|_| ()),
        Err(SessionError::TooLarge)
    );
    assert_eq!(
        decrypt_compact(&huge, &[0u8; 64]).map(|_| ()),
        Err(JweError::TooLarge)
    );

    // A well-formed token with a huge ciphertext: refused for size, not crypto.
    let cbc = v5_token();
    let parts: Vec<&str> = cbc.split('.').collect();
    let ct = "A".repeat(MAX_TOKEN_LEN);
    let big = replace_part(&cbc, 3, &ct);
    assert!(big.len() > MAX_TOKEN_LEN);
    assert_eq!(d.decode_cookie(&big, V5, NOW), Err(SessionError::TooLarge));

    // Exactly at the limit is parsed (and then fails authentication).
    let fill = MAX_TOKEN_LEN - (cbc.len() - parts[3].len());
    let fill = fill - fill % 64; // whole CBC blocks in base64 (48 bytes per 64 chars)
    let at = replace_part(&cbc, 3, &"A".repeat(fill));
    assert!(at.len() <= MAX_TOKEN_LEN);
    assert_eq!(
        d.decode_cookie(&at, V5, NOW),
        Err(SessionError::Undecryptable)
    );

    // Encoding refuses what would not fit.
    let mut c = claims();
    c.insert("blob".into(), Value::from("z".repeat(MAX_TOKEN_LEN)));
    assert_eq!(
        d.encode_v5(&c, V5, &[0u8; 16]).map(|t| t.len()),
        Err(JweError::TooLarge)
    );
    let k = derive_v5_key(SECRET.as_bytes(), V5, Enc::A256CbcHs512);
    // Passes the early plaintext check, but the token would be over 64 KiB.
    let fits =
        encrypt_compact(&vec![b'x'; 48_000], &k, Enc::A256CbcHs512, None, &[0u8; 16]).unwrap();
    assert!(fits.len() <= MAX_TOKEN_LEN);
    assert_eq!(decrypt_compact(&fits, &k).unwrap().1.len(), 48_000);
    assert_eq!(
        encrypt_compact(&vec![b'x'; 49_100], &k, Enc::A256CbcHs512, None, &[0u8; 16])
            .map(|t| t.len()),
        Err(JweError::TooLarge)
    );
    let k4 = derive_v4_key(SECRET.as_bytes());
    assert_eq!(
        encrypt_compact(&vec![b'x'; 60_000], &k4, Enc::A256Gcm, None, &[0u8; 12]).map(|t| t.len()),
        Err(JweError::TooLarge)
    );
}

#[test]
fn expiry_tolerance() {
    let d = dec();
    let mut c = claims();
    c.insert("exp".into(), Value::from(NOW));
    let t = d.encode_v5(&c, V5, &[1u8; 16]).unwrap();
    assert!(d.decode_cookie(&t, V5, NOW + 10).is_ok());
    assert!(d.decode_cookie(&t, V5, NOW + 14).is_ok());
    assert_eq!(
        d.decode_cookie(&t, V5, NOW + 15),
        Err(SessionError::Expired)
    );
    assert_eq!(
        d.decode_cookie(&t, V5, NOW + 20),
        Err(SessionError::Expired)
    );
    assert!(SessionError::Expired.is_expired());

    // No exp: accepted at any time (as Auth.js).
    let mut c = claims();
    c.remove("exp");
    let t = d.encode_v5(&c, V5, &[1u8; 16]).unwrap();
    assert!(d.decode_cookie(&t, V5, i64::MAX).is_ok());
    assert!(d.decode_cookie(&t, V5, i64::MIN).is_ok());

    // Non-numeric exp / iat, nbf in the future.
    for (k, v, want) in [
        ("exp", json!("2030-01-01"), SessionError::InvalidClaims),
        ("exp", json!(null), SessionError::InvalidClaims),
        ("iat", json!("now"), SessionError::InvalidClaims),
        ("nbf", json!(NOW + 16), SessionError::NotYetValid),
    ] {
        let mut c = claims();
        c.insert(k.into(), v);
        let t = d.encode_v5(&c, V5, &[1u8; 16]).unwrap();
        assert_eq!(d.decode_cookie(&t, V5, NOW), Err(want), "{k}");
    }
}

#[test]
fn plaintext_that_is_not_a_claims_object() {
    let d = dec();
    let key = derive_v5_key(SECRET.as_bytes(), V5, Enc::A256CbcHs512);
    let kid = key_thumbprint(&key);
    for pt in [
        &b"[]"[..],
        b"\"x\"",
        b"1",
        b"",
        b"{",
        b"\xff\xfe",
        b"{\"a\":\"\xc3\x28\"}",
    ] {
        let t = encrypt_compact(pt, &key, Enc::A256CbcHs512, Some(&kid), &[0u8; 16]).unwrap();
        assert_eq!(decrypt_compact(&t, &key).unwrap().1, pt);
        assert_eq!(
            d.decode_cookie(&t, V5, NOW),
            Err(SessionError::InvalidClaims)
        );
    }
}

#[test]
fn kid_selects_the_secret() {
    let both = SessionDecoder::new(&[SECRET.as_bytes(), OTHER.as_bytes()]);
    let key = derive_v5_key(SECRET.as_bytes(), V5, Enc::A256CbcHs512);
    let other_kid = key_thumbprint(&derive_v5_key(OTHER.as_bytes(), V5, Enc::A256CbcHs512));
    let pt = serde_json::to_vec(&claims()).unwrap();
    // Right key, but a kid naming the other secret, or nobody: Auth.js
    // refuses ("no matching decryption secret"), and so do we.
    for kid in [other_kid.as_str(), "nobody", ""] {
        let t = encrypt_compact(&pt, &key, Enc::A256CbcHs512, Some(kid), &[0u8; 16]).unwrap();
        assert_eq!(
            both.decode_cookie(&t, V5, NOW),
            Err(SessionError::Undecryptable),
            "{kid}"
        );
        assert!(both.decode_bearer(&t, NOW).is_err());
    }
    // No kid: each secret is tried.
    let other_first = SessionDecoder::new(&[OTHER.as_bytes(), SECRET.as_bytes()]);
    let t = encrypt_compact(&pt, &key, Enc::A256CbcHs512, None, &[0u8; 16]).unwrap();
    assert_eq!(other_first.decode_cookie(&t, V5, NOW).unwrap(), claims());
    // The right kid.
    let t = encrypt_compact(
        &pt,
        &key,
        Enc::A256CbcHs512,
        Some(&key_thumbprint(&key)),
        &[0u8; 16],
    )
    .unwrap();
    assert_eq!(other_first.decode_cookie(&t, V5, NOW).unwrap(), claims());
    // A256GCM v5 keys use their own (SHA-256) thumbprint.
    let gkey = derive_v5_key(SECRET.as_bytes(), V5, Enc::A256Gcm);
    let t = encrypt_compact(
        &pt,
        &gkey,
        Enc::A256Gcm,
        Some(&key_thumbprint(&gkey)),
        &[0u8; 12],
    )
    .unwrap();
    assert_eq!(other_first.decode_cookie(&t, V5, NOW).unwrap(), claims());
    let t = encrypt_compact(
        &pt,
        &gkey,
        Enc::A256Gcm,
        Some(&key_thumbprint(&key)),
        &[0u8; 12],
    )
    .unwrap();
    assert_eq!(
        other_first.decode_cookie(&t, V5, NOW),
        Err(SessionError::Undecryptable)
    );
}

#[test]
fn flavors_do_not_mix() {
    let d = dec();
    let v5 = v5_token();
    let v4 = v4_token();
    for name in V4_COOKIE_NAMES {
        assert_eq!(
            d.decode_cookie(&v5, name, NOW),
            Err(SessionError::Undecryptable)
        );
    }
    for name in V5_COOKIE_NAMES {
        assert_eq!(
            d.decode_cookie(&v4, name, NOW),
            Err(SessionError::Undecryptable)
        );
    }
    assert_eq!(
        d.decode_cookie(&v5, V5_COOKIE_NAMES[1], NOW),
        Err(SessionError::Undecryptable)
    );
    for name in [
        "session",
        "authjs.session-token.0",
        "AUTHJS.SESSION-TOKEN",
        "",
    ] {
        assert_eq!(
            d.decode_cookie(&v5, name, NOW),
            Err(SessionError::UnknownCookieName)
        );
    }
    assert_eq!(
        d.encode_v5(&claims(), V4, &[0u8; 16]),
        Err(JweError::UnknownCookieName)
    );
    assert_eq!(
        SessionDecoder::new(&[]).encode_v5(&claims(), V5, &[0u8; 16]),
        Err(JweError::NoSecret)
    );
}

#[test]
fn errors_say_nothing() {
    let all = [
        SessionError::Malformed,
        SessionError::TooLarge,
        SessionError::Undecryptable,
        SessionError::InvalidClaims,
        SessionError::Expired,
        SessionError::NotYetValid,
        SessionError::UnknownCookieName,
    ];
    for e in all {
        assert_eq!(e.to_string(), "invalid session token");
        assert!(!e.reason().is_empty());
    }
    // Debug of the decoder shows neither secrets nor keys.
    let d = SessionDecoder::new(&[SECRET.as_bytes()]);
    let dbg = format!("{d:?}");
    assert!(!dbg.contains(SECRET), "{dbg}");
    let key = derive_v5_key(SECRET.as_bytes(), V5, Enc::A256CbcHs512);
    assert!(!dbg.contains(&key_thumbprint(&key)), "{dbg}");
    assert!(
        !dbg.contains(&format!("{}", key[0])) || dbg.len() < 60,
        "{dbg}"
    );
    // Header Debug of a decrypted token holds only enc and kid.
    let (h, _) = decrypt_compact(&v5_token(), &key).unwrap();
    assert_eq!(h.enc, Enc::A256CbcHs512);
    assert_eq!(h.kid.as_deref(), Some(key_thumbprint(&key).as_str()));
}

#[test]
fn chunk_reassembly() {
    let name = V5;
    let none: Vec<(&str, &str)> = vec![];
    assert_eq!(reassemble_chunks(none, name), Ok(None));
    assert_eq!(reassemble_chunks([("other", "x")], name), Ok(None));
    // Plain cookie.
    assert_eq!(
        reassemble_chunks([("a", "1"), (name, "tok")], name),
        Ok(Some("tok".into()))
    );
    // Plain wins over leftover chunks; the first of repeated names wins.
    let jar = [
        (".x", "1"),
        ("authjs.session-token.0", "A"),
        (name, "plain"),
        (name, "second"),
    ];
    assert_eq!(reassemble_chunks(jar, name), Ok(Some("plain".into())));
    // Chunks, out of order, numeric (not lexicographic) order, among noise.
    let jar = [
        ("authjs.session-token.10", "K"),
        ("authjs.session-token.2", "C"),
        ("__Secure-authjs.session-token.0", "nope"),
        ("authjs.session-token.0", "A"),
        ("authjs.session-token-x", "nope"),
        ("authjs.session-token.x", "nope"),
        ("authjs.session-token.", "nope"),
        ("authjs.session-token.-1", "nope"),
        ("authjs.session-token.1", "B"),
        ("authjs.session-token.1", "dup"),
        ("authjs.session-token.3", ""),
    ];
    assert_eq!(reassemble_chunks(jar, name), Ok(Some("ABCK".into())));
    // An empty plain value is ignored, as Auth.js does.
    let jar = [(name, ""), ("authjs.session-token.0", "A")];
    assert_eq!(reassemble_chunks(jar, name), Ok(Some("A".into())));
    // Too large in total, or too many chunks.
    let big = "a".repeat(MAX_TOKEN_LEN / 2 + 1);
    let jar = [
        ("authjs.session-token.0", big.as_str()),
        ("authjs.session-token.1", big.as_str()),
    ];
    assert_eq!(reassemble_chunks(jar, name), Err(SessionError::TooLarge));
    let names: Vec<String> = (0..=MAX_CHUNKS).map(|i| format!("{name}.{i}")).collect();
    let jar: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "a")).collect();
    assert_eq!(reassemble_chunks(jar, name), Err(SessionError::TooLarge));
    let huge = "a".repeat(MAX_TOKEN_LEN + 1);
    assert_eq!(
        reassemble_chunks([(name, huge.as_str())], name),
        Err(SessionError::TooLarge)
    );
    // Many tiny chunk cookies do not cost quadratic time or memory.
    let names: Vec<String> = (0..100_000).map(|i| format!("{name}.{i}")).collect();
    let jar: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "a")).collect();
    assert_eq!(reassemble_chunks(jar, name), Err(SessionError::TooLarge));
}

/// Deterministic pseudo-random mutations: no panic, no success.
#[test]
fn fuzz_no_panic() {
    let d = SessionDecoder::new(&[SECRET.as_bytes(), OTHER.as_bytes()]);
    let seeds = [v5_token(), v4_token()];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    const CHARS: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00";
    for i in 0..4000 {
        let mut t = seeds[i % 2].as_bytes().to_vec();
        for _ in 0..(1 + next() % 4) {
            let r = next() as usize;
            match next() % 4 {
                0 if !t.is_empty() => {
                    let p = r % t.len();
                    t[p] = CHARS[(r >> 8) % CHARS.len()];
                }
                1 if !t.is_empty() => {
                    let p = r % t.len();
                    t.remove(p);
                }
                2 => {
                    let p = r % (t.len() + 1);
                    t.insert(p, CHARS[(r >> 8) % CHARS.len()]);
                }
                _ => {
                    let p = r % (t.len() + 1);
                    t.truncate(p);
                }
            }
        }
        let t = String::from_utf8(t).unwrap();
        if t == seeds[0] || t == seeds[1] {
            continue;
        }
        for name in [V5, V4] {
            assert!(d.decode_cookie(&t, name, NOW).is_err(), "{t}");
        }
        assert!(d.decode_bearer(&t, NOW).is_err(), "{t}");
    }
    // Pure random strings.
    for _ in 0..2000 {
        let len = (next() % 300) as usize;
        let s: String = (0..len)
            .map(|_| CHARS[(next() % CHARS.len() as u64) as usize] as char)
            .collect();
        assert!(d.decode_bearer(&s, NOW).is_err());
    }
}
