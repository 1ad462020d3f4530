//! The pages' one stylesheet, served by us (the CSP allows styles from this origin only, no
//! inline style): the static sheet with the brand colour and a text colour that reads on it
//! prepended as custom properties.

use axum::extract::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use super::context::PageContext;

pub const PATH: &str = "/static/authbridge.css";

const SHEET: &str = include_str!("../../../static/authbridge.css");

/// `color` is `#rgb` or `#rrggbb` (checked by the config).
pub fn stylesheet(color: &str) -> String {
    let on_brand = if relative_luminance(color) > 0.179 {
        "#111111"
    } else {
        "#ffffff"
    };
    format!(":root{{--brand:{color};--on-brand:{on_brand};}}\n{SHEET}")
}

/// WCAG 2's relative luminance; 0.179 is where black and white text have equal contrast.
fn relative_luminance(color: &str) -> f64 {
    let hex = color.trim_start_matches('#');
    let full: String = if hex.len() == 3 {
        hex.chars().flat_map(|c| [c, c]).collect()
    } else {
        hex.to_string()
    };
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(full.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0))
            / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

pub async fn serve(Extension(ctx): Extension<Arc<PageContext>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ctx.stylesheet.clone(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_on_the_brand_colour_is_readable() {
        assert!(stylesheet("#2f5bd3").starts_with(":root{--brand:#2f5bd3;--on-brand:#ffffff;}"));
        assert!(stylesheet("#ffd700").contains("--on-brand:#111111"));
        assert!(stylesheet("#fff").contains("--on-brand:#111111"));
        assert!(stylesheet("#000").contains("--on-brand:#ffffff"));
    }
}
