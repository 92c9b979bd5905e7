//! Local container engines (podman, docker) through their CLIs: `save` to read an image,
//! `load` to hand one over. No socket, no daemon API: husk stays daemonless and works with
//! whatever configuration the user's engine CLI has (CONTAINERS_CONF, DOCKER_HOST, ...).

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use husk_oci::{Image, PlatformChoice};

use crate::docker_archive::write_docker_archive_to;
use crate::reference::Engine;
use crate::{FormatError, open_docker_archive, open_oci_archive};

/// An image saved out of an engine; the temporary archive lives as long as this value.
pub struct EngineImage {
    inner: Box<dyn Image>,
    _dir: tempfile::TempDir,
    name: String,
}

impl Image for EngineImage {
    fn raw_manifest(&self) -> Result<Vec<u8>, husk_oci::OciError> {
        self.inner.raw_manifest()
    }
    fn open_blob(
        &self,
        desc: &husk_oci::Descriptor,
    ) -> Result<husk_oci::BlobReader<'_>, husk_oci::OciError> {
        self.inner.open_blob(desc)
    }
    fn location(&self) -> String {
        self.name.clone()
    }
}

/// Whether the engine's CLI is on PATH.
pub fn engine_available(engine: Engine) -> bool {
    Command::new(engine.program())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn spawn_error(engine: Engine, e: std::io::Error) -> FormatError {
    if e.kind() == std::io::ErrorKind::NotFound {
        FormatError::EngineMissing {
            engine: engine.program(),
        }
    } else {
        FormatError::Engine {
            command: engine.program().into(),
            status: "could not start".into(),
            stderr: e.to_string(),
        }
    }
}

/// Save `name` out of the engine into a temporary archive and open it.
///
/// # Errors
/// [`FormatError::EngineMissing`], or [`FormatError::Engine`] with the engine's stderr.
pub fn open_engine_image(engine: Engine, name: &str) -> Result<EngineImage, FormatError> {
    let dir = tempfile::Builder::new()
        .prefix("husk-save-")
        .tempdir()
        .map_err(|e| FormatError::io(std::env::temp_dir(), e))?;
    let out = dir.path().join("image.tar");
    let mut cmd = Command::new(engine.program());
    cmd.arg("save");
    if engine == Engine::Podman {
        cmd.args(["--format", "oci-archive"]);
    }
    cmd.arg("-o").arg(&out).arg(name);
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| spawn_error(engine, e))?;
    if !output.status.success() {
        return Err(FormatError::Engine {
            command: format!("{} save {name}", engine.program()),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    let inner: Box<dyn Image> = match engine {
        Engine::Podman => {
            Box::new(open_oci_archive(&out, None, &PlatformChoice::Only)?) as Box<dyn Image>
        }
        Engine::Docker => Box::new(open_docker_archive(&out, None)?),
    };
    Ok(EngineImage {
        inner,
        _dir: dir,
        name: format!("{}:{name}", engine.program()),
    })
}

/// How many times a load that lost containers/storage's race is tried in all.
const LOAD_ATTEMPTS: u32 = 3;

/// Whether a failed `podman load` lost the race containers/storage has when two processes
/// add the same layer at once (`layer not known`, `duplicate ID`): a new attempt finds the
/// layer stored by the other process. Seen on a fresh machine where parallel builds load
/// images sharing their system layer into an empty store.
fn lost_layer_race(engine: Engine, err: &FormatError) -> bool {
    matches!(
        (engine, err),
        (Engine::Podman, FormatError::Engine { stderr, .. })
            if stderr.contains("layer not known") || stderr.contains("duplicate ID")
    )
}

/// Load `image` into the engine under `tags`, streaming a docker-archive into
/// `<engine> load`. A podman load that lost containers/storage's concurrent-layer race is
/// tried again (at most [`LOAD_ATTEMPTS`] times in all).
///
/// # Errors
/// [`FormatError::EngineMissing`], or [`FormatError::Engine`] with the engine's stderr.
pub fn load_into_engine(
    engine: Engine,
    image: &dyn Image,
    tags: &[String],
) -> Result<String, FormatError> {
    let mut attempt = 1;
    loop {
        match load_once(engine, image, tags) {
            Err(e) if attempt < LOAD_ATTEMPTS && lost_layer_race(engine, &e) => {
                std::thread::sleep(std::time::Duration::from_millis(200 * u64::from(attempt)));
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// One `<engine> load` of `image`.
fn load_once(engine: Engine, image: &dyn Image, tags: &[String]) -> Result<String, FormatError> {
    let mut child = Command::new(engine.program())
        .arg("load")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_error(engine, e))?;
    let stdin = child.stdin.take().expect("stdin was piped");
    let write_result = write_docker_archive_to(image, tags, std::io::BufWriter::new(stdin))
        .and_then(|mut w| w.flush().map_err(|e| FormatError::io("engine stdin", e)));
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut stdout);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let status = child.wait().map_err(|e| spawn_error(engine, e))?;
    if !status.success() {
        return Err(FormatError::Engine {
            command: format!("{} load", engine.program()),
            status: status.to_string(),
            stderr: stderr.trim().to_owned(),
        });
    }
    write_result?;
    Ok(stdout.trim().to_owned())
}

#[cfg(test)]
mod race_tests {
    use super::*;

    fn engine_error(stderr: &str) -> FormatError {
        FormatError::Engine {
            command: "podman load".into(),
            status: "exit status: 125".into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn only_podmans_layer_race_is_tried_again() {
        let race = engine_error(
            "docker-archive: writing blob: adding layer with blob \"sha256:38\": layer not known",
        );
        assert!(lost_layer_race(Engine::Podman, &race));
        assert!(lost_layer_race(
            Engine::Podman,
            &engine_error("Error: duplicate ID")
        ));
        assert!(!lost_layer_race(Engine::Docker, &race));
        assert!(!lost_layer_race(
            Engine::Podman,
            &engine_error("no space left on device")
        ));
    }
}
