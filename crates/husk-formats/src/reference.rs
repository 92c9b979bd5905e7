//! How an image on local media is named: `oci:DIR[:REF]`, `oci-archive:FILE[:REF]`,
//! `docker-archive:FILE[:REPO:TAG]`, `podman:NAME`, `docker:NAME` (the local engines).
//! The transport names follow containers/image (skopeo). Registries are not local media:
//! the transport layer above this crate routes them elsewhere.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::FormatError;

/// A local container engine reachable through its CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Podman,
    Docker,
}

impl Engine {
    pub fn program(self) -> &'static str {
        match self {
            Engine::Podman => "podman",
            Engine::Docker => "docker",
        }
    }
}

/// The transports of local media, as written before the `:`.
pub const TRANSPORTS: [&str; 5] = ["oci", "oci-archive", "docker-archive", "podman", "docker"];

/// Where an image on local media lives (source) or goes (sink).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalRef {
    /// An OCI image layout directory, optionally naming one image by its ref-name annotation.
    Oci {
        dir: PathBuf,
        reference: Option<String>,
    },
    /// A tar of an OCI image layout.
    OciArchive {
        path: PathBuf,
        reference: Option<String>,
    },
    /// What `docker save` / `podman save` write; `reference` picks one of its RepoTags.
    DockerArchive {
        path: PathBuf,
        reference: Option<String>,
    },
    /// An image in a local engine's store.
    Engine { engine: Engine, name: String },
}

impl LocalRef {
    /// Whether this medium can hold a whole multi-platform index (see
    /// [`crate::write_index`]): an OCI layout directory or archive.
    pub fn holds_indexes(&self) -> bool {
        matches!(self, LocalRef::Oci { .. } | LocalRef::OciArchive { .. })
    }

    /// A short human name of the medium (for messages).
    pub fn transport(&self) -> &'static str {
        match self {
            LocalRef::Oci { .. } => "oci",
            LocalRef::OciArchive { .. } => "oci-archive",
            LocalRef::DockerArchive { .. } => "docker-archive",
            LocalRef::Engine {
                engine: Engine::Podman,
                ..
            } => "podman",
            LocalRef::Engine {
                engine: Engine::Docker,
                ..
            } => "docker",
        }
    }
}

impl fmt::Display for LocalRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.transport();
        match self {
            LocalRef::Oci { dir: p, reference }
            | LocalRef::OciArchive { path: p, reference }
            | LocalRef::DockerArchive { path: p, reference } => {
                write!(f, "{t}:{}", p.display())?;
                if let Some(r) = reference {
                    write!(f, ":{r}")?;
                }
                Ok(())
            }
            LocalRef::Engine { name, .. } => write!(f, "{t}:{name}"),
        }
    }
}

/// Split `PATH[:REF]`: the last `:` starts a REF only if what follows has no `/` (so a
/// path like `./a:b/c` stays whole) and is not empty.
fn split_path_ref(rest: &str) -> (PathBuf, Option<String>) {
    if let Some((path, r)) = rest.rsplit_once(':')
        && !r.is_empty()
        && !path.is_empty()
        && !r.contains('/')
    {
        return (PathBuf::from(path), Some(r.to_owned()));
    }
    (PathBuf::from(rest), None)
}

/// Like [`split_path_ref`], but a docker-archive reference is `REPO:TAG`, which itself
/// has a colon: `FILE:REPO:TAG`. A reference must contain a `:` tag part after the file.
fn split_docker_archive(rest: &str) -> (PathBuf, Option<String>) {
    let mut parts = rest.rsplitn(3, ':');
    let (Some(tag), Some(repo), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
        return (PathBuf::from(rest), None);
    };
    if tag.contains('/') || path.is_empty() || repo.is_empty() || tag.is_empty() {
        return (PathBuf::from(rest), None);
    }
    (PathBuf::from(path), Some(format!("{repo}:{tag}")))
}

impl FromStr for LocalRef {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| FormatError::BadReference {
            reference: s.to_owned(),
            reason: reason.to_owned(),
        };
        let (transport, rest) = s.split_once(':').ok_or_else(|| {
            bad("expected TRANSPORT:LOCATION with TRANSPORT one of oci, oci-archive, docker-archive, podman, docker")
        })?;
        if rest.is_empty() {
            return Err(bad("the location after the transport is empty"));
        }
        if rest.contains('\0') {
            return Err(bad("contains a NUL byte"));
        }
        Ok(match transport {
            "oci" => {
                let (dir, reference) = split_path_ref(rest);
                LocalRef::Oci { dir, reference }
            }
            "oci-archive" => {
                let (path, reference) = split_path_ref(rest);
                LocalRef::OciArchive { path, reference }
            }
            "docker-archive" => {
                let (path, reference) = split_docker_archive(rest);
                LocalRef::DockerArchive { path, reference }
            }
            "podman" | "docker" => {
                let engine = if transport == "podman" {
                    Engine::Podman
                } else {
                    Engine::Docker
                };
                if rest.starts_with('-') || rest.chars().any(char::is_whitespace) {
                    return Err(bad(
                        "an engine image name may not start with '-' or contain spaces",
                    ));
                }
                LocalRef::Engine {
                    engine,
                    name: rest.to_owned(),
                }
            }
            other => {
                return Err(bad(&format!(
                    "unknown transport {other:?}; use oci:, oci-archive:, docker-archive:, podman: or docker:"
                )));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let cases: &[(&str, LocalRef)] = &[
            (
                "oci:out",
                LocalRef::Oci {
                    dir: "out".into(),
                    reference: None,
                },
            ),
            (
                "oci:out:v1",
                LocalRef::Oci {
                    dir: "out".into(),
                    reference: Some("v1".into()),
                },
            ),
            (
                "oci:./a:b/c",
                LocalRef::Oci {
                    dir: "./a:b/c".into(),
                    reference: None,
                },
            ),
            (
                "oci-archive:/tmp/x.tar",
                LocalRef::OciArchive {
                    path: "/tmp/x.tar".into(),
                    reference: None,
                },
            ),
            (
                "docker-archive:x.tar:demo:1.0",
                LocalRef::DockerArchive {
                    path: "x.tar".into(),
                    reference: Some("demo:1.0".into()),
                },
            ),
            (
                "docker-archive:x.tar",
                LocalRef::DockerArchive {
                    path: "x.tar".into(),
                    reference: None,
                },
            ),
            (
                "podman:localhost/demo:1",
                LocalRef::Engine {
                    engine: Engine::Podman,
                    name: "localhost/demo:1".into(),
                },
            ),
        ];
        for (s, want) in cases {
            assert_eq!(&s.parse::<LocalRef>().unwrap(), want, "{s}");
            assert_eq!(&want.to_string().parse::<LocalRef>().unwrap(), want);
        }
    }

    #[test]
    fn rejects_bad_references() {
        for s in [
            "",
            "out",
            "oci:",
            "registry:x",
            "podman:-rm",
            "podman:a b",
            "oci:a\0b",
        ] {
            assert!(s.parse::<LocalRef>().is_err(), "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = s.parse::<LocalRef>();
        }
    }
}
