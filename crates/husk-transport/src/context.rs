//! The [`Context`]: registry settings, auth files and progress, built once by the caller
//! from plain data ([`Settings`]) and passed to every verb. The library reads no
//! environment variable: the caller reads them into an [`AuthEnv`], and the auth-file
//! order is a pure function of it ([`auth_files`], [`login_file`]).

use std::path::PathBuf;
use std::sync::Arc;

use husk_formats::LocalRef;
use husk_oci::{Image, OwnedIndex, Platform, PlatformChoice};
use husk_registry::{
    Logger, NoProgress, PlainHttp, Progress, RegistryError, RegistryOptions, RegistryRef, Remote,
    RetryPolicy,
};

use crate::reference::engine_hint;
use crate::{ImageRef, TransportError};

/// Makes the progress receiver of one transfer; its argument is the verb (`"pull"`,
/// `"push"`). The CLI draws bars on a terminal; the default draws nothing.
pub type ProgressFactory = Arc<dyn Fn(&'static str) -> Arc<dyn Progress> + Send + Sync>;

/// The environment values the auth-file order depends on, as plain data (unset and
/// empty variables are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthEnv {
    pub registry_auth_file: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub docker_config: Option<PathBuf>,
    pub home: Option<PathBuf>,
}

/// What a [`Context`] is built from: flags and environment values as plain data.
#[derive(Clone, Default)]
pub struct Settings {
    /// `--authfile`: the one auth file read (and written by login).
    pub authfile: Option<PathBuf>,
    pub env: AuthEnv,
    /// Extra PEM CA certificates trusted besides the system roots.
    pub ca_certs: Vec<PathBuf>,
    /// `--cert-dir`: one certificate directory for every registry, instead of certs.d.
    pub cert_dir: Option<PathBuf>,
    pub plain_http: PlainHttp,
    /// Attempts per request (at least 1).
    pub retries: u32,
    /// How long a registry may send or take nothing before a request fails
    /// (`None`: [`husk_registry::DEFAULT_IDLE_TIMEOUT`]).
    pub idle_timeout: Option<std::time::Duration>,
    /// 0 quiet, 1 requests, 2 requests and headers (to `log`).
    pub verbosity: u8,
    pub log: Option<Logger>,
    /// `None`: no progress reports.
    pub progress: Option<ProgressFactory>,
}

/// The auth files credentials are read from, in order: `flag`, else
/// `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
/// `$XDG_CONFIG_HOME/containers/auth.json` (default `~/.config`; podman), then
/// `$DOCKER_CONFIG/config.json` (default `~/.docker`; docker).
pub fn auth_files(flag: Option<&PathBuf>, env: &AuthEnv) -> Vec<PathBuf> {
    if let Some(f) = flag {
        return vec![f.clone()];
    }
    let home = env.home.as_ref();
    let mut v = Vec::new();
    if let Some(f) = &env.registry_auth_file {
        v.push(f.clone());
    }
    if let Some(d) = &env.xdg_runtime_dir {
        v.push(d.join("containers/auth.json"));
    }
    if let Some(d) = env
        .xdg_config_home
        .clone()
        .or_else(|| home.map(|h| h.join(".config")))
    {
        v.push(d.join("containers/auth.json"));
    }
    if let Some(d) = env
        .docker_config
        .clone()
        .or_else(|| home.map(|h| h.join(".docker")))
    {
        v.push(d.join("config.json"));
    }
    v
}

/// Where `husk login` stores credentials: `flag`, else the podman auth file
/// (`$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`), else docker's
/// (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`); `None` with none of them.
pub fn login_file(flag: Option<&PathBuf>, env: &AuthEnv) -> Option<PathBuf> {
    flag.cloned()
        .or_else(|| env.registry_auth_file.clone())
        .or_else(|| {
            env.xdg_runtime_dir
                .as_ref()
                .map(|d| d.join("containers/auth.json"))
        })
        .or_else(|| env.docker_config.as_ref().map(|d| d.join("config.json")))
        .or_else(|| env.home.as_ref().map(|h| h.join(".docker/config.json")))
}

/// What a reference opened whole names.
pub enum Opened {
    Image(Box<dyn Image>),
    Index(OwnedIndex),
}

/// Everything the verbs need, built once (no global state).
#[derive(Clone)]
pub struct Context {
    registry: RegistryOptions,
    login_file: Option<PathBuf>,
    progress: ProgressFactory,
}

impl Default for Context {
    fn default() -> Self {
        Context::new(Settings::default())
    }
}

impl Context {
    pub fn new(s: Settings) -> Context {
        Context {
            registry: RegistryOptions {
                auth_files: auth_files(s.authfile.as_ref(), &s.env),
                credentials: None,
                ca_certs: s.ca_certs,
                cert_dir: s.cert_dir,
                certs_d: husk_registry::tls::certs_d_roots(
                    s.env
                        .xdg_config_home
                        .clone()
                        .or_else(|| s.env.home.as_ref().map(|h| h.join(".config")))
                        .as_deref(),
                ),
                plain_http: s.plain_http,
                retry: RetryPolicy {
                    max_attempts: s.retries.max(1),
                    ..RetryPolicy::default()
                },
                idle_timeout: s
                    .idle_timeout
                    .unwrap_or(husk_registry::DEFAULT_IDLE_TIMEOUT),
                log: s.log,
                verbosity: s.verbosity,
            },
            login_file: login_file(s.authfile.as_ref(), &s.env),
            progress: s
                .progress
                .unwrap_or_else(|| Arc::new(|_| Arc::new(NoProgress))),
        }
    }

    /// The registry options (for operations outside the verbs, e.g. `husk login`).
    pub fn registry_options(&self) -> &RegistryOptions {
        &self.registry
    }

    /// Where `husk login` stores credentials (see [`login_file`]).
    ///
    /// # Errors
    /// [`TransportError::NoLoginFile`] when neither the flag nor the environment names one.
    pub fn login_file(&self) -> Result<PathBuf, TransportError> {
        self.login_file.clone().ok_or(TransportError::NoLoginFile)
    }

    pub(crate) fn progress(&self, verb: &'static str) -> Arc<dyn Progress> {
        (self.progress)(verb)
    }

    /// Open the one image `reference` names (`platform` picks one of an index). A
    /// registry image is lazy: its manifest now, each blob when it is read.
    ///
    /// # Errors
    /// [`TransportError::OpenLocal`] or [`TransportError::OpenRegistry`], naming the
    /// reference.
    pub fn open(
        &self,
        reference: &ImageRef,
        platform: &PlatformChoice,
    ) -> Result<Box<dyn Image>, TransportError> {
        match reference {
            ImageRef::Registry(r) => Ok(Box::new(
                husk_registry::open(r, platform, &self.registry)
                    .map_err(|e| open_registry_error(r, e))?
                    .with_progress(self.progress("pull")),
            )),
            ImageRef::Local(l) => {
                husk_formats::open(l, platform).map_err(|e| open_local_error(l, e))
            }
        }
    }

    /// Open `reference` for copying: with a platform, that one image; without, the whole
    /// multi-platform index when it names one (a registry index or manifest list, or an
    /// OCI layout entry that is an index), else the image.
    ///
    /// # Errors
    /// As [`Context::open`].
    pub fn open_whole(
        &self,
        reference: &ImageRef,
        platform: Option<&Platform>,
    ) -> Result<Opened, TransportError> {
        if let Some(p) = platform {
            return self
                .open(reference, &PlatformChoice::Exactly(p.clone()))
                .map(Opened::Image);
        }
        match reference {
            ImageRef::Registry(r) => {
                let remote =
                    husk_registry::open_remote(r, &self.registry, Some(self.progress("pull")))
                        .map_err(|e| open_registry_error(r, e))?;
                Ok(match remote {
                    Remote::Image(i) => Opened::Image(Box::new(i)),
                    Remote::Index(i) => Opened::Index(i),
                })
            }
            ImageRef::Local(l) => match husk_formats::open_index(l) {
                Ok(Some(index)) => Ok(Opened::Index(index)),
                Ok(None) => self
                    .open(reference, &PlatformChoice::Only)
                    .map(Opened::Image),
                Err(e) => Err(open_local_error(l, e)),
            },
        }
    }

    /// Check, before any work, that `dest` may be written: a local destination must be
    /// an image of the same kind (or absent) and its engine installed; a registry must be
    /// reachable under the plain-HTTP policy.
    ///
    /// # Errors
    /// [`TransportError::Local`] / [`TransportError::Destination`] for local media,
    /// [`RegistryError::InsecureRefused`] for a registry the flags do not allow.
    pub fn check_destination(&self, dest: &ImageRef) -> Result<(), TransportError> {
        match dest {
            ImageRef::Registry(r) => {
                if self.registry.plain_http == PlainHttp::Loopback && !r.is_loopback() {
                    return Err(RegistryError::InsecureRefused {
                        host: r.domain.clone(),
                    }
                    .into());
                }
                Ok(())
            }
            ImageRef::Local(l) => {
                husk_formats::check_destination(l).map_err(|error| match engine_hint(l) {
                    hint if hint.is_empty() => error.into(),
                    hint => TransportError::Destination {
                        error: Box::new(error),
                        hint,
                    },
                })
            }
        }
    }
}

fn open_local_error(l: &LocalRef, source: husk_formats::FormatError) -> TransportError {
    TransportError::OpenLocal {
        reference: l.to_string(),
        hint: engine_hint(l),
        source: Box::new(source),
    }
}

fn open_registry_error(r: &RegistryRef, source: RegistryError) -> TransportError {
    TransportError::OpenRegistry {
        reference: r.to_string(),
        source: Box::new(source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> AuthEnv {
        AuthEnv {
            registry_auth_file: Some("/r.json".into()),
            xdg_runtime_dir: Some("/run/u".into()),
            xdg_config_home: None,
            docker_config: None,
            home: Some("/h".into()),
        }
    }

    #[test]
    fn auth_file_order() {
        let want: Vec<PathBuf> = [
            "/r.json",
            "/run/u/containers/auth.json",
            "/h/.config/containers/auth.json",
            "/h/.docker/config.json",
        ]
        .map(PathBuf::from)
        .into();
        assert_eq!(auth_files(None, &env()), want);
        let flag = PathBuf::from("/f.json");
        assert_eq!(auth_files(Some(&flag), &env()), std::slice::from_ref(&flag));
        assert!(auth_files(None, &AuthEnv::default()).is_empty());
        assert_eq!(login_file(None, &env()), Some("/r.json".into()));
        assert_eq!(login_file(Some(&flag), &env()), Some(flag));
        let docker = AuthEnv {
            home: Some("/h".into()),
            ..AuthEnv::default()
        };
        assert_eq!(
            login_file(None, &docker),
            Some("/h/.docker/config.json".into())
        );
        assert_eq!(login_file(None, &AuthEnv::default()), None);
        assert!(matches!(
            Context::default().login_file(),
            Err(TransportError::NoLoginFile)
        ));
    }

    #[test]
    fn plain_http_loopback_refuses_remote_destinations() {
        let ctx = Context::new(Settings {
            plain_http: PlainHttp::Loopback,
            ..Settings::default()
        });
        let remote: ImageRef = "docker://reg.example/a:1".parse().unwrap();
        let local: ImageRef = "docker://127.0.0.1:5000/a:1".parse().unwrap();
        let e = ctx.check_destination(&remote).unwrap_err();
        assert!(
            e.to_string().contains("refusing plain HTTP to reg.example"),
            "{e}"
        );
        ctx.check_destination(&local).unwrap();
    }
}
