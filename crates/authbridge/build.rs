//! Stamps the commit into `authbridge --version`, so a bug report names the exact source.
//!
//! Outside a git checkout (a source tarball, a crates.io package) there is no commit to read: a
//! packager may set `AUTHBRIDGE_COMMIT`, otherwise the version says the commit is unknown.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=AUTHBRIDGE_COMMIT");
    // HEAD moves on checkout; the branch's ref moves on commit; packed-refs holds refs after gc.
    // A worktree keeps HEAD in its own git dir and refs in the common one: ask git for each path.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &branch]));
    }
    watched.push(git(&["rev-parse", "--git-path", "packed-refs"]));
    for path in watched.into_iter().flatten() {
        // A path that does not exist would make cargo rerun this script on every build.
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let commit = std::env::var("AUTHBRIDGE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown (built outside a git checkout)".to_string());
    println!("cargo:rustc-env=AUTHBRIDGE_COMMIT={commit}");
}
