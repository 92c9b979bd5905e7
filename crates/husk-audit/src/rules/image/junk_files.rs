//! HUSK-I021: files that should not ship (VCS metadata, caches, package lists).

use std::collections::BTreeMap;

use husk_layer::ImagePath;

use crate::facts::ImageFacts;
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct JunkFiles;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I021",
    name: "junk-files",
    target: Target::Image,
    severity: Severity::Low,
    summary: "The image ships VCS metadata, caches or package lists",
    explanation: "A .git directory leaks history (and sometimes credentials in its config); package manager lists and caches (/var/lib/apt/lists, /var/cache/apt, /var/cache/apk, ~/.cache, ~/.npm, ~/.cargo/registry) only make the image bigger and its contents staler.",
    fix: "Add the paths to .dockerignore, clean caches in the same `RUN` that fills them (`rm -rf /var/lib/apt/lists/*`, `apk add --no-cache`), or copy only build results into the final stage.",
    references: &[
        Reference::Dockle("DKL-DI-0006"),
        Reference::Hadolint("DL3009"),
    ],
};

/// (what, test on a path)
fn category(p: &str) -> Option<&'static str> {
    if p.ends_with("/.git") || p.contains("/.git/") {
        Some("git metadata (.git)")
    } else if p.starts_with("/var/lib/apt/lists/")
        && !p.ends_with("/lock")
        && !p.contains("/partial")
    {
        Some("apt package lists (/var/lib/apt/lists)")
    } else if p.starts_with("/var/cache/apt/") && (p.ends_with(".bin") || p.ends_with(".deb")) {
        Some("apt cache (/var/cache/apt)")
    } else if p.starts_with("/var/cache/apk/")
        || p.starts_with("/var/cache/yum/")
        || p.starts_with("/var/cache/dnf/")
    {
        Some("package manager cache (/var/cache)")
    } else if p.contains("/.cache/") {
        Some("user cache directories (~/.cache)")
    } else if p.contains("/.npm/_cacache/")
        || p.contains("/.cargo/registry/")
        || p.contains("/go/pkg/mod/cache/")
    {
        Some("language package caches")
    } else {
        None
    }
}

impl Rule for JunkFiles {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let mut found: BTreeMap<&str, (String, usize, u64, u64)> = BTreeMap::new();
        for (p, e) in image.files.walk(&ImagePath::root()) {
            if !e.is_file() {
                continue;
            }
            if let Some(c) = category(p.as_str()) {
                let slot = found
                    .entry(c)
                    .or_insert_with(|| (p.to_string(), e.layer, 0, 0));
                slot.2 += 1;
                slot.3 += e.size;
            }
        }
        for (what, (first, layer, n, bytes)) in found {
            out.path(
                &first,
                Some(layer),
                format!("{what}: {n} files, {bytes} bytes"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_git_and_apt_lists() {
        let f = Fake::new()
            .file("/src/.git/config", b"[core]")
            .file("/var/lib/apt/lists/deb.debian.org_Packages", b"Package: x")
            .facts();
        assert_eq!(run_image(&JunkFiles, &f).len(), 2);
    }

    #[test]
    fn quiet_for_clean_images() {
        let f = Fake::new()
            .file("/var/lib/apt/lists/lock", b"")
            .file("/app", b"x")
            .facts();
        assert!(run_image(&JunkFiles, &f).is_empty());
    }
}
