//! Rough single-core throughput of `SessionDecoder` (not a benchmark
//! harness; run in release):
//!
//! ```sh
//! cargo run --release -p authjs-jwe --example bench_decode
//! ```

use authjs_jwe::{stamp_claims, SessionDecoder, V4_COOKIE_NAMES, V5_COOKIE_NAMES};
use serde_json::{json, Map, Value};
use std::hint::black_box;
use std::time::Instant;

const NOW: i64 = 1_800_000_000;

fn claims() -> Map<String, Value> {
    let mut c = match json!({
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "picture": "https://example.com/ada.png",
        "sub": "1",
        "accessToken": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxOTAwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6ImZpeHR1cmUiLCJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJlLW5vdC1jaGVja2VkLWJ5LXRoZS1maXh0dXJlcw",
    }) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    stamp_claims(
        &mut c,
        NOW,
        30 * 86400,
        "0b6f1d9e-8f0a-4a57-9b0e-3c1f2d4e5a6b",
    );
    c
}

fn run(label: &str, iters: u32, mut f: impl FnMut() -> bool) {
    // Warm up, then time.
    for _ in 0..iters / 10 {
        black_box(f());
    }
    let start = Instant::now();
    let mut ok = 0u32;
    for _ in 0..iters {
        ok += u32::from(black_box(f()));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{label:<48} {:>9.0}/s  {:>6.2} µs  ({ok}/{iters} ok)",
        f64::from(iters) / secs,
        secs * 1e6 / f64::from(iters)
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let s: [&[u8]; 4] = [b"test-secret-change-me", b"second", b"third", b"fourth"];
    let one = SessionDecoder::new(&s[..1]);
    let four = SessionDecoder::new(&s);
    let c = claims();
    let v5 = one.encode_v5(&c, V5_COOKIE_NAMES[0], &[7u8; 16])?;
    let v4 = one.encode_v4(&c, &[7u8; 12])?;
    let v4_last = SessionDecoder::new(&s[3..]).encode_v4(&c, &[7u8; 12])?;
    let v4_wrong = SessionDecoder::new(&[b"unknown"]).encode_v4(&c, &[7u8; 12])?;
    let mut tampered = v5.clone().into_bytes();
    let n = tampered.len();
    tampered[n - 5] = if tampered[n - 5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered)?;
    let long = {
        let mut c = c.clone();
        c.insert("accessToken".into(), Value::from("x".repeat(9000)));
        one.encode_v5(&c, V5_COOKIE_NAMES[0], &[7u8; 16])?
    };
    println!(
        "v5 token {} bytes, v4 token {} bytes, long {} bytes",
        v5.len(),
        v4.len(),
        long.len()
    );

    let start = Instant::now();
    black_box(SessionDecoder::new(&s));
    println!("SessionDecoder::new with 4 secrets: {:?}", start.elapsed());

    let it = 200_000;
    run("v5 decode_cookie (1 secret)", it, || {
        one.decode_cookie(&v5, V5_COOKIE_NAMES[0], NOW).is_ok()
    });
    run("v5 decode_cookie (4 secrets, kid picks)", it, || {
        four.decode_cookie(&v5, V5_COOKIE_NAMES[0], NOW).is_ok()
    });
    run("v4 decode_cookie (1 secret)", it, || {
        one.decode_cookie(&v4, V4_COOKIE_NAMES[0], NOW).is_ok()
    });
    run("v4 decode_cookie (4 secrets, last matches)", it, || {
        four.decode_cookie(&v4_last, V4_COOKIE_NAMES[0], NOW)
            .is_ok()
    });
    run("v4 wrong secret (4 secrets, all tried)", it, || {
        four.decode_cookie(&v4_wrong, V4_COOKIE_NAMES[0], NOW)
            .is_ok()
    });
    run("v5 decode_bearer (1 secret)", it, || {
        one.decode_bearer(&v5, NOW).is_ok()
    });
    run("v4 decode_bearer (1 secret)", it, || {
        one.decode_bearer(&v4, NOW).is_ok()
    });
    run("v5 tampered tag (1 secret)", it, || {
        one.decode_cookie(&tampered, V5_COOKIE_NAMES[0], NOW)
            .is_ok()
    });
    run("v5 under the wrong cookie name (kid unknown)", it, || {
        one.decode_cookie(&v5, V5_COOKIE_NAMES[1], NOW).is_ok()
    });
    run("v5 12.8 kB chunked-size token (1 secret)", it / 10, || {
        one.decode_cookie(&long, V5_COOKIE_NAMES[0], NOW).is_ok()
    });
    run("v5 encode_v5", it, || {
        one.encode_v5(&c, V5_COOKIE_NAMES[0], &[7u8; 16]).is_ok()
    });
    Ok(())
}
