//! OCI documents and `husk_oci::validate`. The input is `MANIFEST 0xFF BLOB` (0xFF never
//! occurs in UTF-8 JSON): the manifest is parsed as a manifest, an index and a config,
//! then validated as an image whose every blob is BLOB, served unverified so the config,
//! layer decompression and diff_id paths are reached (a fuzzer cannot forge a sha256).
#![no_main]

use husk_oci::{BlobReader, Descriptor, Image, OciError};
use libfuzzer_sys::fuzz_target;

struct FuzzImage<'a> {
    manifest: &'a [u8],
    blob: &'a [u8],
}

impl Image for FuzzImage<'_> {
    fn raw_manifest(&self) -> Result<Vec<u8>, OciError> {
        Ok(self.manifest.to_vec())
    }
    fn open_blob(&self, _desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
        Ok(Box::new(self.blob))
    }
    fn open_verified(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
        self.open_blob(desc)
    }
    fn location(&self) -> String {
        "fuzz".to_owned()
    }
}

fuzz_target!(|data: &[u8]| {
    let (manifest, blob) = match data.iter().position(|&b| b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let _ = husk_oci::parse_index(manifest, "fuzz index");
    let _ = husk_oci::parse_config(manifest, "fuzz config");
    if husk_oci::parse_manifest(manifest, "fuzz manifest").is_ok() {
        let image = FuzzImage { manifest, blob };
        let _ = husk_oci::validate(&image);
    }
});
