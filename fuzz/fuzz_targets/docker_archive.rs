//! docker-archive: the input is `manifest.json` of an archive that also holds
//! `config.json` and `layer.tar`; the archive is opened and its image read.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use husk_oci::Image;
use libfuzzer_sys::fuzz_target;

fn archive_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!(
            "husk-fuzz-docker-archive-{}.tar",
            std::process::id()
        ))
    })
}

fn add(b: &mut tar::Builder<std::fs::File>, name: &str, bytes: &[u8]) {
    let mut h = tar::Header::new_ustar();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, name, bytes)
        .expect("write the fuzz archive");
}

fuzz_target!(|data: &[u8]| {
    let path = archive_path();
    let file = std::fs::File::create(path).expect("create the fuzz archive");
    let mut b = tar::Builder::new(file);
    add(&mut b, "manifest.json", data);
    add(
        &mut b,
        "config.json",
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
    );
    add(&mut b, "layer.tar", &[0u8; 1024]);
    b.into_inner().expect("finish the fuzz archive");
    if let Ok(image) = husk_formats::open_docker_archive(path, None) {
        let _ = image.manifest();
        let _ = image.config();
        let _ = image.location();
    }
});
