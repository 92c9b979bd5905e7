//! The image reference the command line speaks: a local medium (`oci:DIR[:REF]`,
//! `oci-archive:FILE[:REF]`, `docker-archive:FILE[:REPO:TAG]`, `podman:NAME`,
//! `docker:NAME`) or a registry (`docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`).
//!
//! `docker:NAME` is the local docker engine and `docker://NAME` a registry: the `//`
//! decides, before anything else. A string that is not a reference but looks like a
//! registry reference written without the scheme (`HOST.with.dot/...`,
//! `HOST:PORT/...`, `localhost/...`) gets a `did you mean docker://...?` suggestion.

use std::fmt;
use std::str::FromStr;

use husk_formats::{Engine, LocalRef, TRANSPORTS};
use husk_registry::RegistryRef;

use crate::TransportError;

/// Where an image lives (source) or goes (destination).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// Local media, opened and written by husk-formats.
    Local(LocalRef),
    /// A registry, opened and written by husk-registry.
    Registry(RegistryRef),
}

/// Every form an image argument takes, for messages.
pub const FORMS: &str = "oci:, oci-archive:, docker-archive:, podman:, docker: or docker://";

impl ImageRef {
    /// Whether this destination can hold a whole multi-platform index: an OCI layout
    /// directory or archive, or a registry.
    pub fn holds_indexes(&self) -> bool {
        match self {
            ImageRef::Local(l) => l.holds_indexes(),
            ImageRef::Registry(_) => true,
        }
    }

    /// Parse the destination of `husk push`, which can only be a registry: the
    /// `docker://` form, or the same without the scheme when it names its registry host
    /// explicitly (`HOST.with.dot/...`, `HOST:PORT/...`, `localhost/...`). A bare name
    /// such as `app:1` is refused rather than sent to Docker Hub.
    ///
    /// # Errors
    /// [`TransportError::NotARegistry`] for anything else, [`TransportError::BadReference`]
    /// for an invalid registry reference.
    pub fn parse_registry(s: &str) -> Result<RegistryRef, TransportError> {
        let rest = match s.strip_prefix("docker://") {
            Some(rest) => rest,
            None if looks_like_registry(s) => s,
            None => {
                return Err(TransportError::NotARegistry {
                    reference: s.to_owned(),
                });
            }
        };
        rest.parse().map_err(
            |e: husk_registry::RegistryRefError| TransportError::BadReference {
                reference: s.to_owned(),
                reason: e.0,
            },
        )
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageRef::Local(l) => write!(f, "{l}"),
            ImageRef::Registry(r) => write!(f, "{r}"),
        }
    }
}

/// Whether `s` reads as a registry reference written without `docker://`: its first
/// `/`-separated part is a host (has a `.` or a `:PORT`, or is `localhost`) and the whole
/// parses as a registry reference.
fn looks_like_registry(s: &str) -> bool {
    let Some((first, _)) = s.split_once('/') else {
        return false;
    };
    let host = first.contains('.') || first.contains(':') || first == "localhost";
    host && s.parse::<RegistryRef>().is_ok()
}

/// `; did you mean docker://S?` when `s` looks like a registry reference, else empty.
fn suggestion(s: &str) -> String {
    if looks_like_registry(s) {
        format!("; did you mean docker://{s}?")
    } else {
        String::new()
    }
}

/// The hint for `docker:NAME` when NAME looks like `HOST:PORT/...`: `docker:` is the
/// local engine, one `//` away from a registry. Empty otherwise.
pub(crate) fn engine_hint(local: &LocalRef) -> String {
    let LocalRef::Engine {
        engine: Engine::Docker,
        name,
    } = local
    else {
        return String::new();
    };
    let host_port = name.split_once('/').is_some_and(|(first, _)| {
        first
            .rsplit_once(':')
            .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
    });
    if host_port && name.parse::<RegistryRef>().is_ok() {
        format!(
            " (docker:{name} names an image of the local docker engine; for the registry, write docker://{name})"
        )
    } else {
        String::new()
    }
}

impl FromStr for ImageRef {
    type Err = TransportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| TransportError::BadReference {
            reference: s.to_owned(),
            reason,
        };
        if let Some(rest) = s.strip_prefix("docker://") {
            return rest
                .parse()
                .map(ImageRef::Registry)
                .map_err(|e: husk_registry::RegistryRefError| bad(e.0));
        }
        match s.split_once(':') {
            None => Err(bad(format!(
                "expected TRANSPORT:LOCATION with TRANSPORT one of {FORMS}{}",
                suggestion(s)
            ))),
            Some((t, _)) if !TRANSPORTS.contains(&t) => Err(bad(format!(
                "unknown transport {t:?}; use {FORMS}{}",
                suggestion(s)
            ))),
            Some(_) => Ok(ImageRef::Local(s.parse()?)),
        }
    }
}

/// The names a registry image gets when copied to `dest` without an explicit name: its
/// tag for an OCI layout's ref-name, else `HOST/REPO:TAG` (RepoTags of a docker-archive
/// or the engine's image name). A registry destination needs none.
pub fn default_names(source: &RegistryRef, dest: &ImageRef) -> Vec<String> {
    match dest {
        ImageRef::Local(l) if l.holds_indexes() => source.tag.iter().cloned().collect(),
        _ => vec![format!(
            "{}/{}:{}",
            source.domain,
            source.repository,
            source.tag.as_deref().unwrap_or("latest")
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        s.parse::<ImageRef>().unwrap_err().to_string()
    }

    #[test]
    fn routes_docker_scheme_to_the_registry_and_docker_colon_to_the_engine() {
        let r: ImageRef = "docker://localhost:5000/a:1".parse().unwrap();
        assert_eq!(r, ImageRef::Registry("localhost:5000/a:1".parse().unwrap()));
        assert_eq!(r.to_string(), "docker://localhost:5000/a:1");
        let e: ImageRef = "docker:busybox".parse().unwrap();
        assert!(matches!(
            e,
            ImageRef::Local(LocalRef::Engine {
                engine: Engine::Docker,
                ..
            })
        ));
        assert!(err("docker://localhost:5000/UP").contains("invalid repository component"));
        let o: ImageRef = "oci:out:v1".parse().unwrap();
        assert_eq!(o.to_string(), "oci:out:v1");
        assert!(o.holds_indexes() && r.holds_indexes() && !e.holds_indexes());
    }

    #[test]
    fn unknown_transport_lists_docker_scheme_and_suggests_it() {
        assert_eq!(
            err("127.0.0.1:5000/a:1"),
            "invalid image reference \"127.0.0.1:5000/a:1\": unknown transport \"127.0.0.1\"; use oci:, oci-archive:, docker-archive:, podman:, docker: or docker://; did you mean docker://127.0.0.1:5000/a:1?"
        );
        assert_eq!(
            err("tarball:x"),
            "invalid image reference \"tarball:x\": unknown transport \"tarball\"; use oci:, oci-archive:, docker-archive:, podman:, docker: or docker://"
        );
        for s in ["localhost/a", "ghcr.io/o/r:v1", "reg.example:443/x"] {
            assert!(
                err(s).ends_with(&format!("did you mean docker://{s}?")),
                "{s}: {}",
                err(s)
            );
        }
        // Not registry-shaped: no suggestion, whatever the input.
        for s in [
            "out",
            "busybox:1",
            "a/b",
            "x.y:",
            "127.0.0.1:5000/UPPER",
            "",
        ] {
            assert!(!err(s).contains("did you mean"), "{s:?}: {}", err(s));
        }
    }

    #[test]
    fn docker_engine_name_that_looks_like_a_registry_gets_a_hint() {
        let l: LocalRef = "docker:127.0.0.1:5000/a:1".parse().unwrap();
        assert!(
            engine_hint(&l).contains("for the registry, write docker://127.0.0.1:5000/a:1"),
            "{}",
            engine_hint(&l)
        );
        for s in [
            "docker:busybox",
            "docker:library/a:1",
            "podman:127.0.0.1:5000/a",
        ] {
            assert_eq!(engine_hint(&s.parse().unwrap()), "", "{s}");
        }
    }

    #[test]
    fn push_destination_accepts_explicit_hosts_only() {
        let a = ImageRef::parse_registry("docker://127.0.0.1:5000/a:1").unwrap();
        let b = ImageRef::parse_registry("127.0.0.1:5000/a:1").unwrap();
        assert_eq!(a, b);
        assert!(ImageRef::parse_registry("localhost/a").is_ok());
        for s in ["oci:x", "app:1", "busybox", "podman:x", ""] {
            let e = ImageRef::parse_registry(s).unwrap_err();
            assert!(
                e.to_string().contains("is not a registry reference"),
                "{s}: {e}"
            );
        }
        let bad = ImageRef::parse_registry("docker://h:5000/UP").unwrap_err();
        assert!(matches!(bad, TransportError::BadReference { .. }), "{bad}");
    }

    #[test]
    fn default_names_follow_the_destination() {
        let src: RegistryRef = "r.example/a/b:1".parse().unwrap();
        let oci: ImageRef = "oci:x".parse().unwrap();
        let arch: ImageRef = "docker-archive:x.tar".parse().unwrap();
        assert_eq!(default_names(&src, &oci), ["1"]);
        assert_eq!(default_names(&src, &arch), ["r.example/a/b:1"]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = s.parse::<ImageRef>();
            let _ = ImageRef::parse_registry(&s);
        }
    }
}
