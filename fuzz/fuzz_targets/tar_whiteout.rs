//! The explore tar reader and whiteout merge: the input is split into two uncompressed
//! tar layers (at `input[0]` 512-byte blocks) merged by `Filesystem::build`, then every
//! path is resolved. Limits are small so one input stays bounded.
#![no_main]

use husk_explore::{Filesystem, Limits, ViewOptions};
use husk_oci::{BlobReader, Descriptor, Digest, Layer, OciError, media};
use libfuzzer_sys::fuzz_target;

struct FuzzLayer<'a> {
    desc: Descriptor,
    bytes: &'a [u8],
}

impl Layer for FuzzLayer<'_> {
    fn descriptor(&self) -> &Descriptor {
        &self.desc
    }
    fn diff_id(&self) -> Option<&Digest> {
        None
    }
    fn open_compressed(&self) -> Result<BlobReader<'_>, OciError> {
        Ok(Box::new(self.bytes))
    }
}

fn layer(bytes: &[u8]) -> FuzzLayer<'_> {
    FuzzLayer {
        desc: Descriptor::for_bytes(media::OCI_LAYER_TAR, bytes),
        bytes,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = (usize::from(split) * 512).min(rest.len());
    let layers = [layer(&rest[..at]), layer(&rest[at..])];
    let opts = ViewOptions {
        limits: Limits {
            max_entries: 20_000,
            max_header_bytes: 64 << 10,
            max_layer_bytes: 64 << 20,
            max_image_bytes: 128 << 20,
            max_nodes: 100_000,
            max_path_bytes: 16 << 20,
            max_xattr_bytes: 1 << 20,
        },
        hash: true,
    };
    if let Ok(fs) = Filesystem::build(&layers, opts) {
        let root = husk_layer::ImagePath::root();
        let paths: Vec<_> = fs.walk(&root).map(|(p, _)| p.clone()).take(1000).collect();
        for p in &paths {
            let _ = fs.resolve(p, true);
        }
    }
});
