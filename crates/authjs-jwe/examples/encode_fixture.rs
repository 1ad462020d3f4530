//! Print session tokens encoded by this crate, as JSON, for
//! `fixtures/mint/verify.mjs` to decode with the real @auth/core and
//! next-auth v4:
//!
//! ```sh
//! cargo run -q -p authjs-jwe --example encode_fixture > /tmp/rust_tokens.json
//! node crates/authjs-jwe/fixtures/mint/verify.mjs /tmp/rust_tokens.json
//! ```
//!
//! Unlike the library, this example reads the clock and /dev/urandom.

use authjs_jwe::{
    chunk_cookie, derive_v5_key, encrypt_compact, key_thumbprint, stamp_claims, Enc,
    SessionDecoder, DEFAULT_MAX_AGE_SECS, V4_CHUNK_SIZE, V4_COOKIE_NAMES, V5_CHUNK_SIZE,
    V5_COOKIE_NAMES,
};
use serde_json::{json, Map, Value};
use std::error::Error;
use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

const PRIMARY: &str = "test-secret-change-me";
const ROTATED: &str = "previous-secret-rotated-out";

fn random<const N: usize>() -> Result<[u8; N], Box<dyn Error>> {
    let mut buf = [0u8; N];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf)
}

fn uuid() -> Result<String, Box<dyn Error>> {
    let mut b: [u8; 16] = random()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?;
    let basic = obj(json!({
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "picture": "https://example.com/ada.png",
        "sub": "1",
        "accessToken": "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2ln",
    }));
    let unicode = obj(json!({
        "name": "Zoë Ünïcødé 李小龍 🦀",
        "email": "ζωή@παράδειγμα.δοκιμή",
        "sub": "42",
        "bio": "مرحبا — \"q\" \\b\\ \u{2028} \u{7} \u{0}",
        "nested": {"emoji": ["😀", "👩🏽‍💻"], "n": -1.5e-7, "t": true, "z": null},
    }));
    let mut long = basic.clone();
    long.insert("accessToken".into(), Value::from("y".repeat(9000)));

    let stamped =
        |claims: &Map<String, Value>, exp_offset: Option<i64>| -> Result<_, Box<dyn Error>> {
            let mut c = claims.clone();
            match exp_offset {
                Some(off) => stamp_claims(&mut c, now, off, &uuid()?),
                None => {
                    c.insert("iat".into(), Value::from(now));
                    c.insert("jti".into(), Value::from(uuid()?));
                }
            }
            Ok(c)
        };

    let primary = SessionDecoder::new(&[PRIMARY.as_bytes()]);
    let rotated_first = SessionDecoder::new(&[ROTATED.as_bytes(), PRIMARY.as_bytes()]);
    let mut out = Vec::new();
    let mut push = |id: String,
                    flavor: &str,
                    cookie_name: &str,
                    decoder_secrets: &[&str],
                    expect: &str,
                    claims: &Map<String, Value>,
                    token: String,
                    chunk_size: usize| {
        let cookies: Vec<[String; 2]> = chunk_cookie(cookie_name, &token, chunk_size)
            .into_iter()
            .map(|(n, v)| [n, v])
            .collect();
        out.push(json!({
            "id": id,
            "flavor": flavor,
            "cookie_name": cookie_name,
            "decoder_secrets": decoder_secrets,
            "expect": expect,
            "claims": claims,
            "token": token,
            "set_cookies": cookies,
        }));
    };

    for name in V5_COOKIE_NAMES {
        let c = stamped(&basic, Some(DEFAULT_MAX_AGE_SECS))?;
        let t = primary.encode_v5(&c, name, &random()?)?;
        push(
            format!("rust-v5-basic@{name}"),
            "v5",
            name,
            &[PRIMARY],
            "ok",
            &c,
            t,
            V5_CHUNK_SIZE,
        );

        let c = stamped(&unicode, Some(DEFAULT_MAX_AGE_SECS))?;
        let t = primary.encode_v5(&c, name, &random()?)?;
        push(
            format!("rust-v5-unicode@{name}"),
            "v5",
            name,
            &[PRIMARY],
            "ok",
            &c,
            t,
            V5_CHUNK_SIZE,
        );

        let c = stamped(&long, Some(DEFAULT_MAX_AGE_SECS))?;
        let t = primary.encode_v5(&c, name, &random()?)?;
        push(
            format!("rust-v5-long-chunked@{name}"),
            "v5",
            name,
            &[PRIMARY],
            "ok",
            &c,
            t,
            V5_CHUNK_SIZE,
        );

        let c = stamped(&basic, Some(DEFAULT_MAX_AGE_SECS))?;
        let t = rotated_first.encode_v5(&c, name, &random()?)?;
        push(
            format!("rust-v5-rotated-secret@{name}"),
            "v5",
            name,
            &[PRIMARY, ROTATED],
            "ok",
            &c,
            t,
            V5_CHUNK_SIZE,
        );

        let c = stamped(&basic, None)?;
        let t = primary.encode_v5(&c, name, &random()?)?;
        push(
            format!("rust-v5-no-exp@{name}"),
            "v5",
            name,
            &[PRIMARY],
            "ok",
            &c,
            t,
            V5_CHUNK_SIZE,
        );

        // 5 s past exp: inside Auth.js's 15 s tolerance (with slack for the
        // time until verify.mjs runs); 20 s: outside.
        let c = stamped(&basic, Some(-5))?;
        let t = primary.encode_v5(&c, name, &random()?)?;
        push(
            format!("rust-v5-expired-5s@{name}"),
            "v5",
            name,
            &[PRIMARY],
            "ok",
            &c,
            t,
            V5_CHUNK_SIZE,
        );
        let c = stamped(&basic, Some(-20))?;
        let t = primary.encode_v5(&c, name, &random()?)?;
        push(
            format!("rust-v5-expired-20s@{name}"),
            "v5",
            name,
            &[PRIMARY],
            "expired",
            &c,
            t,
            V5_CHUNK_SIZE,
        );

        let c = stamped(&basic, Some(DEFAULT_MAX_AGE_SECS))?;
        let key = derive_v5_key(PRIMARY.as_bytes(), name, Enc::A256Gcm);
        let kid = key_thumbprint(&key);
        let t = encrypt_compact(
            &serde_json::to_vec(&c)?,
            &key,
            Enc::A256Gcm,
            Some(&kid),
            &random::<12>()?,
        )?;
        push(
            format!("rust-v5-a256gcm-kid@{name}"),
            "v5",
            name,
            &[PRIMARY],
            "ok",
            &c,
            t,
            V5_CHUNK_SIZE,
        );

        let key = derive_v5_key(PRIMARY.as_bytes(), name, Enc::A256CbcHs512);
        let t = encrypt_compact(
            &serde_json::to_vec(&c)?,
            &key,
            Enc::A256CbcHs512,
            None,
            &random::<16>()?,
        )?;
        push(
            format!("rust-v5-cbc-nokid@{name}"),
            "v5",
            name,
            &[PRIMARY],
            "ok",
            &c,
            t,
            V5_CHUNK_SIZE,
        );
    }

    let v4name = V4_COOKIE_NAMES[0];
    let c = stamped(&basic, Some(DEFAULT_MAX_AGE_SECS))?;
    let t = primary.encode_v4(&c, &random()?)?;
    push(
        "rust-v4-basic".into(),
        "v4",
        v4name,
        &[PRIMARY],
        "ok",
        &c,
        t,
        V4_CHUNK_SIZE,
    );
    let c = stamped(&unicode, Some(DEFAULT_MAX_AGE_SECS))?;
    let t = primary.encode_v4(&c, &random()?)?;
    push(
        "rust-v4-unicode".into(),
        "v4",
        v4name,
        &[PRIMARY],
        "ok",
        &c,
        t,
        V4_CHUNK_SIZE,
    );
    let c = stamped(&long, Some(DEFAULT_MAX_AGE_SECS))?;
    let t = primary.encode_v4(&c, &random()?)?;
    push(
        "rust-v4-long-chunked".into(),
        "v4",
        v4name,
        &[PRIMARY],
        "ok",
        &c,
        t,
        V4_CHUNK_SIZE,
    );
    let c = stamped(&basic, Some(-20))?;
    let t = primary.encode_v4(&c, &random()?)?;
    push(
        "rust-v4-expired-20s".into(),
        "v4",
        v4name,
        &[PRIMARY],
        "expired",
        &c,
        t,
        V4_CHUNK_SIZE,
    );

    let doc = json!({ "generated_at": now, "tokens": out });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}
