//! Test fixtures: an image of in-memory tar layers (husk-explore's `testing` layers,
//! which count how often they are opened) like the issue's: a layer overwrites a file,
//! another deletes a directory.

use husk_explore::inspect::LayerInfo;
pub use husk_explore::testing::{Entry as E, TarLayer, layer};
use husk_explore::{History, Summary, ViewOptions};
use husk_oci::Layer;

use crate::model::Browser;

/// Base files, a layer that overwrites /etc/motd, one that deletes /usr/share/perl.
pub fn image() -> Vec<TarLayer> {
    vec![
        layer(&[
            E::Dir("etc", 0o755),
            E::File("etc/motd", b"hello\n"),
            E::Dir("usr/share/perl", 0o755),
            E::File("usr/share/perl/a.pm", &[b'a'; 100]),
            E::File("usr/share/perl/b.pm", &[b'b'; 50]),
            E::Link("bin", "usr/bin"),
            E::File("usr/bin/sh", b"#!"),
        ]),
        layer(&[
            E::File("etc/motd", b"changed motd\n"),
            E::File("etc/new", b"new"),
        ]),
        layer(&[E::File("usr/share/.wh.perl", b"")]),
    ]
}

/// The summary of `layers` as the manifest and config would give it.
pub fn summary(layers: &[TarLayer]) -> Summary {
    let infos = layers
        .iter()
        .enumerate()
        .map(|(i, l)| LayerInfo {
            index: i,
            digest: l.descriptor().digest.to_string(),
            media_type: husk_oci::media::OCI_LAYER_TAR.into(),
            size: l.descriptor().size,
            diff_id: None,
            created_by: Some(format!("RUN step {i}")),
            comment: None,
        })
        .collect();
    Summary {
        location: "test".into(),
        digest: "sha256:00".into(),
        manifest_media_type: None,
        config_digest: "sha256:00".into(),
        platform: "linux/amd64".into(),
        created: None,
        author: None,
        user: Some("65532".into()),
        entrypoint: Some(vec!["/app".into()]),
        cmd: None,
        env: vec!["PATH=/bin".into()],
        workdir: None,
        ports: vec!["8443/tcp".into()],
        volumes: vec![],
        labels: Default::default(),
        stop_signal: None,
        healthcheck: None,
        annotations: Default::default(),
        layers: infos,
        history: vec![],
    }
}

/// A browser over `layers` with every layer read.
pub fn browser(layers: &[TarLayer], color: bool) -> Browser {
    let h = History::read_all(layers, ViewOptions::default()).unwrap();
    Browser::new(h, summary(layers), "oci:test".into(), color)
}
