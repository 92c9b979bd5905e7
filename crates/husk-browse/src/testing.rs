//! Test fixtures: small uncompressed tar layers in memory that count how often they are
//! opened, and an image of them like the (a layer overwrites a file, another
//! deletes a directory).

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

use husk_explore::inspect::LayerInfo;
use husk_explore::{History, Summary, ViewOptions};
use husk_oci::{BlobReader, Descriptor, Digest, Layer, OciError};

use crate::model::Browser;

/// One tar layer in memory.
pub struct TarLayer {
    desc: Descriptor,
    pub tar: Vec<u8>,
    opens: AtomicUsize,
}

impl TarLayer {
    /// How often the blob was opened (a registry would have downloaded it).
    pub fn opens(&self) -> usize {
        self.opens.load(Ordering::SeqCst)
    }
}

/// An entry: a file with content, a directory, or a symlink.
pub enum E<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Link(&'a str, &'a str),
}

pub fn layer(entries: &[E]) -> TarLayer {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        match e {
            E::File(name, data) => {
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                b.append_data(&mut h, name, *data).unwrap();
            }
            E::Dir(name) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(0o755);
                h.set_cksum();
                b.append_data(&mut h, name, std::io::empty()).unwrap();
            }
            E::Link(name, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_mode(0o777);
                b.append_link(&mut h, name, target).unwrap();
            }
        }
    }
    let tar = b.into_inner().unwrap();
    let desc = Descriptor::for_bytes(husk_oci::media::OCI_LAYER_TAR, &tar);
    TarLayer {
        desc,
        tar,
        opens: AtomicUsize::new(0),
    }
}

impl Layer for TarLayer {
    fn descriptor(&self) -> &Descriptor {
        &self.desc
    }
    fn diff_id(&self) -> Option<&Digest> {
        None
    }
    fn open_compressed(&self) -> Result<BlobReader<'_>, OciError> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(self.tar.as_slice().chain(std::io::empty())))
    }
}

/// Base files, a layer that overwrites /etc/motd, one that deletes /usr/share/perl.
pub fn image() -> Vec<TarLayer> {
    vec![
        layer(&[
            E::Dir("etc"),
            E::File("etc/motd", b"hello\n"),
            E::Dir("usr/share/perl"),
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
            digest: l.desc.digest.to_string(),
            media_type: husk_oci::media::OCI_LAYER_TAR.into(),
            size: l.desc.size,
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
