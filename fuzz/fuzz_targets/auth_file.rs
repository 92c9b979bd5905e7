//! Docker/podman auth-file parsing (husk_registry::auth::lookup_in). Credential helpers
//! (`credsStore`, `credHelpers`) are removed first: running programs named by fuzz input
//! is not what this target is for.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(data) else {
        // Still exercise the parser's error path.
        if let Ok(text) = std::str::from_utf8(data) {
            if !text.contains("cred") {
                let _ = husk_registry::auth::lookup_in(
                    text,
                    std::path::Path::new("/fuzz/auth.json"),
                    "registry.example",
                    "a/b",
                );
            }
        }
        return;
    };
    if let Some(obj) = value.as_object_mut() {
        obj.remove("credsStore");
        obj.remove("credHelpers");
    } else {
        return;
    }
    let text = value.to_string();
    for (domain, repo) in [("registry.example", "a/b"), ("docker.io", "library/x")] {
        let _ = husk_registry::auth::lookup_in(
            &text,
            std::path::Path::new("/fuzz/auth.json"),
            domain,
            repo,
        );
    }
});
