//! One way to name an image on local media, accepted by every husk command:
//! `oci:DIR[:REF]`, `oci-archive:FILE[:REF]`, `docker-archive:FILE[:REPO:TAG]`,
//! `podman:NAME`, `docker:NAME`. The transport names follow containers/image (skopeo).

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

/// Where an image lives (source) or goes (sink).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
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
    /// An image in a registry, `docker://HOST[:PORT]/REPO[:TAG][@DIGEST]`; opened and
    /// written by husk-registry (this crate has no HTTP).
    Registry(crate::RegistryRef),
}

impl ImageRef {
    /// A short human name of the medium (for messages).
    pub fn transport(&self) -> &'static str {
        match self {
            ImageRef::Oci { .. } => "oci",
            ImageRef::OciArchive { .. } => "oci-archive",
            ImageRef::DockerArchive { .. } => "docker-archive",
            ImageRef::Engine {
                engine: Engine::Podman,
                ..
            } => "podman",
            ImageRef::Engine {
                engine: Engine::Docker,
                ..
            } => "docker",
            ImageRef::Registry(_) => "docker://",
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.transport();
        match self {
            ImageRef::Oci { dir: p, reference }
            | ImageRef::OciArchive { path: p, reference }
            | ImageRef::DockerArchive { path: p, reference } => {
                write!(f, "{t}:{}", p.display())?;
                if let Some(r) = reference {
                    write!(f, ":{r}")?;
                }
                Ok(())
            }
            ImageRef::Engine { name, .. } => write!(f, "{t}:{name}"),
            ImageRef::Registry(r) => write!(f, "{r}"),
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

impl FromStr for ImageRef {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| FormatError::BadReference {
            reference: s.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(rest) = s.strip_prefix("docker://") {
            return rest
                .parse()
                .map(ImageRef::Registry)
                .map_err(|e: crate::RegistryRefError| bad(&e.0));
        }
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
                ImageRef::Oci { dir, reference }
            }
            "oci-archive" => {
                let (path, reference) = split_path_ref(rest);
                ImageRef::OciArchive { path, reference }
            }
            "docker-archive" => {
                let (path, reference) = split_docker_archive(rest);
                ImageRef::DockerArchive { path, reference }
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
                ImageRef::Engine {
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
        let cases: &[(&str, ImageRef)] = &[
            (
                "oci:out",
                ImageRef::Oci {
                    dir: "out".into(),
                    reference: None,
                },
            ),
            (
                "oci:out:v1",
                ImageRef::Oci {
                    dir: "out".into(),
                    reference: Some("v1".into()),
                },
            ),
            (
                "oci:./a:b/c",
                ImageRef::Oci {
                    dir: "./a:b/c".into(),
                    reference: None,
                },
            ),
            (
                "oci-archive:/tmp/x.tar",
                ImageRef::OciArchive {
                    path: "/tmp/x.tar".into(),
                    reference: None,
                },
            ),
            (
                "docker-archive:x.tar:demo:1.0",
                ImageRef::DockerArchive {
                    path: "x.tar".into(),
                    reference: Some("demo:1.0".into()),
                },
            ),
            (
                "docker-archive:x.tar",
                ImageRef::DockerArchive {
                    path: "x.tar".into(),
                    reference: None,
                },
            ),
            (
                "podman:localhost/demo:1",
                ImageRef::Engine {
                    engine: Engine::Podman,
                    name: "localhost/demo:1".into(),
                },
            ),
        ];
        for (s, want) in cases {
            assert_eq!(&s.parse::<ImageRef>().unwrap(), want, "{s}");
            assert_eq!(&want.to_string().parse::<ImageRef>().unwrap(), want);
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
            assert!(s.parse::<ImageRef>().is_err(), "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = s.parse::<ImageRef>();
        }
    }
}
