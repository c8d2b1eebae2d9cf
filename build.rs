//! Records the git commit earmark is built from (`EARMARK_COMMIT`), for the provenance record
//! that opens every scan's output: `<commit>`, `<commit>-modified` when tracked files differ from
//! it, or `unknown` outside a git checkout (a crate unpacked from a registry).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "HEAD"]).filter(|c| !c.is_empty());
    let modified =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let described = match commit {
        Some(c) if modified => format!("{c}-modified"),
        Some(c) => c,
        None => "unknown".into(),
    };
    println!("cargo:rustc-env=EARMARK_COMMIT={described}");
    // Again when the commit moves or a tracked file changes.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/index");
    }
    if let (Some(common), Some(head)) = (
        git(&["rev-parse", "--git-common-dir"]),
        git(&["symbolic-ref", "-q", "HEAD"]),
    ) {
        println!("cargo:rerun-if-changed={common}/{head}");
        println!("cargo:rerun-if-changed={common}/packed-refs");
    }
    for path in ["src", "Cargo.toml", "Cargo.lock", "build.rs", "vendor"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
