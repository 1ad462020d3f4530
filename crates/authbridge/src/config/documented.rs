//! Every key is documented in docs/configuration.md, and every documented key exists.
//!
//! The doc's key tables are the Markdown tables whose first header cell is `key`; every
//! backticked name in a row's first cell is a key (`AUDIENCE`, `ISSUER` share a row). A table
//! under a `## [name]` heading lists that table's keys, any other one top-level keys.

use std::collections::BTreeSet;

use super::schema::Section;
use super::Settings;

const DOC: &str = include_str!("../../../../docs/configuration.md");

/// (section, key) for every key row of the doc; the section is `""` at the top level.
fn documented(doc: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut section = String::new();
    let mut in_key_table = false;
    for line in doc.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            // "## `[simple_jwt]`" names a table; any other level-2 heading is top-level again.
            section = heading
                .trim()
                .trim_matches('`')
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or("")
                .to_string();
            continue;
        }
        let Some(row) = line.trim().strip_prefix('|') else {
            in_key_table = false;
            continue;
        };
        let first = row.split('|').next().unwrap_or("").trim();
        if first == "key" {
            in_key_table = true;
            continue;
        }
        if !in_key_table || first.starts_with("---") {
            continue;
        }
        for (i, name) in first.split('`').enumerate() {
            if i % 2 == 1 {
                out.insert((section.clone(), name.to_string()));
            }
        }
    }
    out
}

/// (section, key) for every key the code accepts.
fn declared() -> BTreeSet<(String, String)> {
    let top = Settings::all_names()
        .into_iter()
        .map(|k| (String::new(), k.to_string()));
    let tables = Settings::table_names()
        .into_iter()
        .flat_map(|(table, keys)| {
            keys.into_iter()
                .map(move |k| (table.to_string(), k.to_string()))
        });
    top.chain(tables).collect()
}

#[test]
fn every_key_is_documented_and_every_documented_key_exists() {
    let documented = documented(DOC);
    let declared = declared();
    let undocumented: Vec<_> = declared.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&declared).collect();
    assert!(
        undocumented.is_empty(),
        "keys missing from docs/configuration.md: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "docs/configuration.md documents keys that do not exist: {unknown:?}"
    );
}

#[test]
fn every_key_has_a_doc_line() {
    fn check<S: Section>() {
        for key in S::KEYS {
            assert!(!key.doc.trim().is_empty(), "{} has no doc line", key.name);
        }
    }
    check::<Settings>();
    check::<super::AuthJsSecrets>();
    check::<super::LoginSettings>();
    check::<super::EdgeSettings>();
    check::<super::CorsSettings>();
    check::<super::CookieSettings>();
    check::<super::SimpleJwt>();
    check::<super::GatewaySettings>();
    check::<super::gateway::PathRule>();
}

#[test]
fn the_doc_parser_reads_sections_and_shared_rows() {
    let doc = "## A\n\n| key | default |\n|---|---|\n| `X` | 1 |\n\n| secret | rule |\n|---|---|\n\
               | `NOT_A_KEY` | r |\n\n## `[t]`\n\n| key | d |\n|---|---|\n| `A`, `B` | 1 |\n";
    let got: Vec<_> = documented(doc).into_iter().collect();
    let want: Vec<(String, String)> = [("", "X"), ("t", "A"), ("t", "B")]
        .iter()
        .map(|(s, k)| (s.to_string(), k.to_string()))
        .collect();
    assert_eq!(got, want);
}
