//! OCI image layout (image-spec `image-layout.md`) as a source and a sink, both as a
//! directory (`oci:DIR`) and as a tar of that directory (`oci-archive:FILE`).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use husk_oci::spec::to_canonical_json;
use husk_oci::{
    BlobReader, Descriptor, Digest, Image, Index, OciError, OwnedIndex, PlatformChoice, blob_error,
    media, parse_index,
};
use serde::{Deserialize, Serialize};

use crate::FormatError;
use crate::archive_tar::ArchiveTar;
use crate::atomic;
use crate::select::{by_reference, is_index};
use crate::store::{DirStore, Store, TarStore};
use crate::tar_index::TarIndex;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LayoutFile {
    image_layout_version: String,
}

/// An image read from an OCI layout (directory or archive).
pub struct LayoutImage {
    store: Arc<dyn Store>,
    manifest: Vec<u8>,
}

impl Image for LayoutImage {
    fn raw_manifest(&self) -> Result<Vec<u8>, OciError> {
        Ok(self.manifest.clone())
    }
    fn open_blob(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
        let name = desc.digest.blob_path();
        if !self.store.exists(&name) {
            return Err(OciError::BlobNotFound {
                digest: desc.digest.clone(),
                location: self.store.location(),
            });
        }
        self.store.open(&name).map_err(|e| match e {
            FormatError::Oci(o) => o,
            FormatError::Io { source, .. } => OciError::BlobRead {
                digest: desc.digest.clone(),
                source,
            },
            other => OciError::BlobRead {
                digest: desc.digest.clone(),
                source: io::Error::other(other.to_string()),
            },
        })
    }
    fn location(&self) -> String {
        self.store.location()
    }
}

/// Read a blob named by a descriptor from a store, verified.
fn read_verified(store: &dyn Store, desc: &Descriptor) -> Result<Vec<u8>, FormatError> {
    if desc.size > husk_oci::MAX_DOCUMENT_BYTES {
        return Err(OciError::TooLarge {
            what: format!("blob {}", desc.digest),
            limit: husk_oci::MAX_DOCUMENT_BYTES,
        }
        .into());
    }
    let name = desc.digest.blob_path();
    if !store.exists(&name) {
        return Err(OciError::BlobNotFound {
            digest: desc.digest.clone(),
            location: store.location(),
        }
        .into());
    }
    let mut out = Vec::new();
    husk_oci::VerifyingReader::new(store.open(&name)?, desc.digest.clone(), desc.size)
        .read_to_end(&mut out)
        .map_err(|e| blob_error(&desc.digest, e))?;
    Ok(out)
}

/// Check `oci-layout` and read `index.json` of a layout.
fn read_top_index(store: &dyn Store) -> Result<Index, FormatError> {
    let location = store.location();
    let layout: LayoutFile =
        serde_json::from_slice(&store.read_small("oci-layout")?).map_err(|source| {
            OciError::Json {
                what: format!("oci-layout of {location}"),
                source,
            }
        })?;
    if !layout.image_layout_version.starts_with("1.") {
        return Err(OciError::UnsupportedMediaType {
            what: format!("oci-layout of {location}"),
            media_type: format!("imageLayoutVersion {}", layout.image_layout_version),
        }
        .into());
    }
    Ok(parse_index(
        &store.read_small("index.json")?,
        &format!("index.json of {location}"),
    )?)
}

fn open_layout(
    store: Arc<dyn Store>,
    reference: Option<&str>,
    platform: &PlatformChoice,
) -> Result<LayoutImage, FormatError> {
    let location = store.location();
    let index = read_top_index(store.as_ref())?;
    let mut desc = by_reference(&index, reference, &location)?;
    // Follow nested indexes (multi-platform images) down to one manifest.
    for _ in 0..4 {
        if !is_index(&desc) {
            break;
        }
        let raw = read_verified(store.as_ref(), &desc)?;
        let nested = parse_index(&raw, &format!("index {} in {location}", desc.digest))?;
        desc = husk_oci::select_platform(&nested, platform, &location)?;
    }
    if !matches!(
        desc.media_type.as_str(),
        media::OCI_MANIFEST | media::DOCKER_MANIFEST
    ) {
        return Err(OciError::UnsupportedMediaType {
            what: format!("{} in {location}", desc.digest),
            media_type: desc.media_type.clone(),
        }
        .into());
    }
    let manifest = read_verified(store.as_ref(), &desc)?;
    // Parse now so a broken manifest is reported at open time.
    husk_oci::parse_manifest(
        &manifest,
        &format!("manifest {} in {location}", desc.digest),
    )?;
    Ok(LayoutImage { store, manifest })
}

/// Open an image from an OCI layout directory.
///
/// # Errors
/// When the directory is not a layout, the reference or platform is not there, or a
/// document does not match its digest.
pub fn open_oci_dir(
    dir: &Path,
    reference: Option<&str>,
    platform: &PlatformChoice,
) -> Result<LayoutImage, FormatError> {
    if !dir.join("oci-layout").is_file() {
        return Err(FormatError::NotALayout {
            path: dir.to_path_buf(),
        });
    }
    open_layout(
        Arc::new(DirStore {
            root: dir.to_path_buf(),
        }),
        reference,
        platform,
    )
}

/// Open an image from an oci-archive (a tar of an OCI layout).
///
/// # Errors
/// As [`open_oci_dir`], plus an unreadable or unsafe tar.
pub fn open_oci_archive(
    path: &Path,
    reference: Option<&str>,
    platform: &PlatformChoice,
) -> Result<LayoutImage, FormatError> {
    let index = TarIndex::scan(path)?;
    if !index.contains("oci-layout") {
        return Err(FormatError::NotALayout {
            path: path.to_path_buf(),
        });
    }
    open_layout(
        Arc::new(TarStore {
            index,
            transport: "oci-archive",
        }),
        reference,
        platform,
    )
}

/// The multi-platform index `reference` names in a layout, with every image it lists
/// (manifests read and verified now, blobs on demand); `None` when it names one image.
fn open_layout_index(
    store: Arc<dyn Store>,
    reference: Option<&str>,
) -> Result<Option<OwnedIndex>, FormatError> {
    let location = store.location();
    let top = read_top_index(store.as_ref())?;
    let desc = by_reference(&top, reference, &location)?;
    if !is_index(&desc) {
        return Ok(None);
    }
    let raw = read_verified(store.as_ref(), &desc)?;
    let nested = parse_index(&raw, &format!("index {} in {location}", desc.digest))?;
    let mut images: Vec<Box<dyn Image>> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for child in &nested.manifests {
        if is_index(child) || !seen.insert(child.digest.clone()) {
            continue; // OwnedIndex::new refuses nested indexes with the reason
        }
        let manifest = read_verified(store.as_ref(), child)?;
        husk_oci::parse_manifest(
            &manifest,
            &format!("manifest {} in {location}", child.digest),
        )?;
        images.push(Box::new(LayoutImage {
            store: store.clone(),
            manifest,
        }));
    }
    Ok(Some(OwnedIndex::new(
        raw,
        Some(&desc.media_type),
        images,
        location,
    )?))
}

/// Open the multi-platform index `reference` names in an OCI layout directory (an
/// `index.json` entry whose media type is an image index or manifest list, as
/// `skopeo copy --all` and `husk pull --all` write). `Ok(None)` when it names a single
/// image.
///
/// # Errors
/// As [`open_oci_dir`]; an index that lists a manifest the layout lacks, or an index
/// inside the index.
pub fn open_oci_dir_index(
    dir: &Path,
    reference: Option<&str>,
) -> Result<Option<OwnedIndex>, FormatError> {
    if !dir.join("oci-layout").is_file() {
        return Err(FormatError::NotALayout {
            path: dir.to_path_buf(),
        });
    }
    open_layout_index(
        Arc::new(DirStore {
            root: dir.to_path_buf(),
        }),
        reference,
    )
}

/// As [`open_oci_dir_index`], for an oci-archive.
///
/// # Errors
/// As [`open_oci_archive`].
pub fn open_oci_archive_index(
    path: &Path,
    reference: Option<&str>,
) -> Result<Option<OwnedIndex>, FormatError> {
    let index = TarIndex::scan(path)?;
    if !index.contains("oci-layout") {
        return Err(FormatError::NotALayout {
            path: path.to_path_buf(),
        });
    }
    open_layout_index(
        Arc::new(TarStore {
            index,
            transport: "oci-archive",
        }),
        reference,
    )
}

/// The descriptor by which a layout's index.json names `image`.
fn index_entry(image: &dyn Image, ref_name: Option<&str>) -> Result<Descriptor, FormatError> {
    let manifest_bytes = image.raw_manifest()?;
    let manifest = image.manifest()?;
    let config = image.config()?;
    let media_type = manifest
        .media_type
        .clone()
        .unwrap_or_else(|| media::OCI_MANIFEST.to_owned());
    let mut desc = Descriptor::for_bytes(media_type, &manifest_bytes);
    desc.platform = Some(config.platform());
    if let Some(r) = ref_name {
        desc.annotations
            .insert(media::ANNOTATION_REF_NAME.into(), r.to_owned());
    }
    Ok(desc)
}

fn index_json(manifests: Vec<Descriptor>) -> Vec<u8> {
    to_canonical_json(&Index {
        schema_version: 2,
        media_type: Some(media::OCI_INDEX.into()),
        manifests,
        annotations: BTreeMap::new(),
    })
}

fn layout_json() -> Vec<u8> {
    to_canonical_json(&LayoutFile {
        image_layout_version: media::OCI_LAYOUT_VERSION.into(),
    })
}

/// Where one blob to write comes from.
enum BlobSource<'a> {
    /// A document held in memory (a manifest or an index), exact bytes.
    Bytes(&'a [u8]),
    /// A blob of an image, read verified.
    Image(&'a dyn Image),
}

/// What a layout sink writes: every blob, deduplicated and sorted by digest, and the
/// index.json entry that names it.
struct Content<'a> {
    blobs: BTreeMap<Digest, (Descriptor, BlobSource<'a>)>,
    entry: Descriptor,
}

/// Every blob of an image (config, layers, manifest) into `blobs`.
fn add_image_blobs<'a>(
    image: &'a dyn Image,
    manifest_bytes: &'a [u8],
    blobs: &mut BTreeMap<Digest, (Descriptor, BlobSource<'a>)>,
) -> Result<(), FormatError> {
    let manifest = image.manifest()?;
    for l in std::iter::once(manifest.config).chain(manifest.layers) {
        blobs
            .entry(l.digest.clone())
            .or_insert((l, BlobSource::Image(image)));
    }
    let m = Descriptor::for_bytes(
        manifest
            .media_type
            .unwrap_or_else(|| media::OCI_MANIFEST.into()),
        manifest_bytes,
    );
    blobs.insert(m.digest.clone(), (m, BlobSource::Bytes(manifest_bytes)));
    Ok(())
}

/// Raw manifests of images, read once so blobs can borrow them.
fn manifests_of(images: &[&dyn Image]) -> Result<Vec<Vec<u8>>, FormatError> {
    images
        .iter()
        .map(|i| i.raw_manifest().map_err(FormatError::from))
        .collect()
}

fn image_content<'a>(
    image: &'a dyn Image,
    manifest: &'a [u8],
    ref_name: Option<&str>,
) -> Result<Content<'a>, FormatError> {
    let mut blobs = BTreeMap::new();
    add_image_blobs(image, manifest, &mut blobs)?;
    Ok(Content {
        blobs,
        entry: index_entry(image, ref_name)?,
    })
}

fn index_content<'a>(
    index: &'a OwnedIndex,
    manifests: &'a [Vec<u8>],
    ref_name: Option<&str>,
) -> Result<Content<'a>, FormatError> {
    let mut blobs = BTreeMap::new();
    for (image, raw) in index.images().iter().zip(manifests) {
        add_image_blobs(image.as_ref(), raw, &mut blobs)?;
    }
    let mut entry = index.descriptor();
    blobs.insert(
        entry.digest.clone(),
        (entry.clone(), BlobSource::Bytes(index.raw())),
    );
    if let Some(r) = ref_name {
        entry
            .annotations
            .insert(media::ANNOTATION_REF_NAME.into(), r.to_owned());
    }
    Ok(Content { blobs, entry })
}

fn open_source<'a>(src: &BlobSource<'a>, desc: &Descriptor) -> Result<BlobReader<'a>, FormatError> {
    match src {
        BlobSource::Bytes(b) => Ok(Box::new(*b)),
        BlobSource::Image(image) => Ok(image.open_verified(desc)?),
    }
}

/// Write `image` into the OCI layout directory `dir`, naming it `ref_name`.
///
/// A new directory is built beside `dir` and renamed into place. An existing layout keeps
/// its other images: new blobs are added (each written to a temporary name and renamed),
/// then index.json is replaced atomically, so readers never see a half-written image.
/// An existing directory that is neither empty nor a layout is refused.
///
/// # Errors
/// I/O errors name the path; a blob that fails verification aborts the write.
pub fn write_oci_dir(
    image: &dyn Image,
    dir: &Path,
    ref_name: Option<&str>,
) -> Result<Descriptor, FormatError> {
    write_oci_dir_with(image, dir, ref_name, DEFAULT_JOBS)
}

/// Blobs written at once into a layout directory by default.
pub const DEFAULT_JOBS: usize = 4;

/// As [`write_oci_dir`], writing up to `jobs` blobs at once (each fetched, verified and
/// renamed into place on its own; a lazy source such as a registry then downloads them
/// concurrently). index.json is still written last.
///
/// # Errors
/// As [`write_oci_dir`].
pub fn write_oci_dir_with(
    image: &dyn Image,
    dir: &Path,
    ref_name: Option<&str>,
    jobs: usize,
) -> Result<Descriptor, FormatError> {
    let manifest = image.raw_manifest()?;
    write_dir_content(
        image_content(image, &manifest, ref_name)?,
        dir,
        ref_name,
        jobs,
    )
}

/// Write a whole multi-platform index into the OCI layout directory `dir`: every image's
/// blobs and manifest, the index blob with its exact bytes, and an index.json entry of
/// the index's media type named `ref_name` (as `skopeo copy --all` does). Atomic as
/// [`write_oci_dir`].
///
/// # Errors
/// As [`write_oci_dir`].
pub fn write_oci_dir_index(
    index: &OwnedIndex,
    dir: &Path,
    ref_name: Option<&str>,
    jobs: usize,
) -> Result<Descriptor, FormatError> {
    let images: Vec<&dyn Image> = index.images().iter().map(|i| i.as_ref()).collect();
    let manifests = manifests_of(&images)?;
    write_dir_content(
        index_content(index, &manifests, ref_name)?,
        dir,
        ref_name,
        jobs,
    )
}

fn write_dir_content(
    content: Content<'_>,
    dir: &Path,
    ref_name: Option<&str>,
    jobs: usize,
) -> Result<Descriptor, FormatError> {
    let entry = content.entry.clone();
    let existing = check_dir_destination(dir)?;
    if existing {
        let old = open_index_of_dir(dir)?;
        write_blobs_into(&content, dir, jobs)?;
        let mut manifests: Vec<Descriptor> = old
            .manifests
            .into_iter()
            .filter(|d| {
                d.digest != entry.digest
                    && (ref_name.is_none()
                        || d.annotations
                            .get(media::ANNOTATION_REF_NAME)
                            .map(String::as_str)
                            != ref_name)
            })
            .collect();
        manifests.push(entry.clone());
        write_file_atomic(&dir.join("index.json"), &index_json(manifests))?;
        return Ok(entry);
    }
    let parent = atomic::parent_of(dir);
    fs::create_dir_all(&parent).map_err(|e| FormatError::io(&parent, e))?;
    atomic::sweep_stale(&parent);
    let tmp = tempfile::Builder::new()
        .prefix(&atomic::tmp_prefix())
        .tempdir_in(&parent)
        .map_err(|e| FormatError::io(&parent, e))?;
    atomic::set_mode(tmp.path(), atomic::PUBLIC_DIR)?;
    fs::write(tmp.path().join("oci-layout"), layout_json())
        .map_err(|e| FormatError::io(tmp.path(), e))?;
    write_blobs_into(&content, tmp.path(), jobs)?;
    fs::write(
        tmp.path().join("index.json"),
        index_json(vec![entry.clone()]),
    )
    .map_err(|e| FormatError::io(tmp.path(), e))?;
    let tmp_path = tmp.keep();
    // An empty directory at `dir` is replaced; rename cannot replace a non-empty one.
    if dir.is_dir() {
        fs::remove_dir(dir).map_err(|e| FormatError::io(dir, e))?;
    }
    fs::rename(&tmp_path, dir).map_err(|e| {
        let _ = fs::remove_dir_all(&tmp_path);
        FormatError::io(dir, e)
    })?;
    Ok(entry)
}

/// The index.json of the layout directory `dir` (for `referrers.rs`).
pub(crate) fn read_dir_index(dir: &Path) -> Result<Index, FormatError> {
    open_index_of_dir(dir)
}

/// Replaces the index.json of `dir` atomically with these entries (for `referrers.rs`).
pub(crate) fn write_dir_index(dir: &Path, manifests: Vec<Descriptor>) -> Result<(), FormatError> {
    write_file_atomic(&dir.join("index.json"), &index_json(manifests))
}

fn open_index_of_dir(dir: &Path) -> Result<Index, FormatError> {
    let store = DirStore {
        root: dir.to_path_buf(),
    };
    let raw = store.read_small("index.json")?;
    Ok(parse_index(
        &raw,
        &format!("index.json of oci:{}", dir.display()),
    )?)
}

/// Write every blob of `content` under `root`, `jobs` at a time, biggest first. Each blob
/// goes to a temporary file, verified as it streams, and is renamed into place only when
/// complete; the first failure stops the blobs not yet started.
fn write_blobs_into(content: &Content<'_>, root: &Path, jobs: usize) -> Result<(), FormatError> {
    let mut todo: Vec<&(Descriptor, BlobSource<'_>)> = content.blobs.values().collect();
    todo.sort_by_key(|(d, _)| std::cmp::Reverse(d.size));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let first_error: std::sync::Mutex<Option<FormatError>> = std::sync::Mutex::new(None);
    let jobs = jobs.clamp(1, 32).min(todo.len().max(1));
    // Blobs of killed writers: swept once per directory, not once per blob.
    let dirs: std::collections::BTreeSet<PathBuf> = todo
        .iter()
        .map(|(d, _)| atomic::parent_of(&root.join(d.digest.blob_path())))
        .collect();
    dirs.iter().for_each(|d| atomic::sweep_stale(d));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                use std::sync::atomic::Ordering;
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((desc, src)) = todo.get(i) else {
                        break;
                    };
                    if let Err(e) = write_blob(root, desc, src) {
                        failed.store(true, Ordering::Relaxed);
                        first_error.lock().expect("error slot").get_or_insert(e);
                    }
                }
            });
        }
    });
    match first_error.into_inner().expect("error slot") {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn write_blob(root: &Path, desc: &Descriptor, src: &BlobSource<'_>) -> Result<(), FormatError> {
    let dest = root.join(desc.digest.blob_path());
    let dir = atomic::parent_of(&dest);
    fs::create_dir_all(&dir).map_err(|e| FormatError::io(&dir, e))?;
    if blob_present(&dest, desc) {
        return Ok(());
    }
    // A blob this process wrote and digested itself (a fresh build) is linked into place
    // rather than copied and hashed again; any other source is copied, verified.
    if let BlobSource::Image(image) = src
        && let Some(file) = image.trusted_blob_file(desc)
        && fs::metadata(file).is_ok_and(|m| m.is_file() && m.len() == desc.size)
    {
        let link = dir.join(format!(
            "{}link-{}",
            atomic::tmp_prefix(),
            desc.digest.hex()
        ));
        let _ = fs::remove_file(&link);
        if fs::hard_link(file, &link).is_ok() {
            atomic::set_mode(&link, atomic::PUBLIC_FILE)?;
            return fs::rename(&link, &dest).map_err(|e| {
                let _ = fs::remove_file(&link);
                FormatError::io(&dest, e)
            });
        }
    }
    let mut tmp = atomic::temp_file_unswept(&dest)?;
    let mut src = open_source(src, desc)?;
    io::copy(&mut src, tmp.as_file_mut()).map_err(|e| match e.get_ref() {
        Some(i) if i.is::<OciError>() => blob_error(&desc.digest, e).into(),
        _ => FormatError::io(tmp.path(), e),
    })?;
    atomic::persist(tmp, &dest)
}

/// A blob already in a layout counts only if it verifies.
fn blob_present(path: &Path, desc: &Descriptor) -> bool {
    let Ok(f) = fs::File::open(path) else {
        return false;
    };
    io::copy(
        &mut husk_oci::VerifyingReader::new(f, desc.digest.clone(), desc.size),
        &mut io::sink(),
    )
    .is_ok()
}

fn write_file_atomic(dest: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    let mut tmp = atomic::temp_file_for(dest)?;
    tmp.write_all(bytes)
        .map_err(|e| FormatError::io(tmp.path(), e))?;
    atomic::persist(tmp, dest)
}

/// Whether `dir` is an existing OCI layout (true), absent or an empty directory (false);
/// anything else is refused.
pub(crate) fn check_dir_destination(dir: &Path) -> Result<bool, FormatError> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {
            if dir.join("oci-layout").is_file() {
                Ok(true)
            } else if fs::read_dir(dir)
                .map_err(|e| FormatError::io(dir, e))?
                .next()
                .is_none()
            {
                Ok(false)
            } else {
                Err(FormatError::DestinationNotOurs {
                    path: dir.to_path_buf(),
                    expected: "an OCI image layout or an empty directory",
                })
            }
        }
        Ok(_) => Err(FormatError::DestinationNotOurs {
            path: dir.to_path_buf(),
            expected: "an OCI image layout directory",
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(FormatError::io(dir, e)),
    }
}

/// Write `image` as an oci-archive at `path` (atomically: temp file, then rename).
/// An existing file is replaced only if it is an oci-archive.
///
/// # Errors
/// As [`write_oci_dir`], plus [`FormatError::DestinationNotOurs`].
pub fn write_oci_archive(
    image: &dyn Image,
    path: &Path,
    ref_name: Option<&str>,
) -> Result<Descriptor, FormatError> {
    atomic::check_replaceable_archive(path, "oci-layout", "an oci-archive")?;
    let manifest = image.raw_manifest()?;
    write_archive_content(image_content(image, &manifest, ref_name)?, path)
}

/// Write a whole multi-platform index as an oci-archive at `path` (see
/// [`write_oci_dir_index`]).
///
/// # Errors
/// As [`write_oci_archive`].
pub fn write_oci_archive_index(
    index: &OwnedIndex,
    path: &Path,
    ref_name: Option<&str>,
) -> Result<Descriptor, FormatError> {
    atomic::check_replaceable_archive(path, "oci-layout", "an oci-archive")?;
    let images: Vec<&dyn Image> = index.images().iter().map(|i| i.as_ref()).collect();
    let manifests = manifests_of(&images)?;
    write_archive_content(index_content(index, &manifests, ref_name)?, path)
}

fn write_archive_content(content: Content<'_>, path: &Path) -> Result<Descriptor, FormatError> {
    let entry = content.entry.clone();
    let mut tmp = atomic::temp_file_for(path)?;
    let tmp_path: PathBuf = tmp.path().to_path_buf();
    let io_err = |e| FormatError::io(&tmp_path, e);
    {
        let mut tar = ArchiveTar::new(io::BufWriter::new(tmp.as_file_mut()));
        let layout = layout_json();
        tar.file("oci-layout", layout.len() as u64, &layout[..])
            .map_err(io_err)?;
        let index = index_json(vec![entry.clone()]);
        tar.file("index.json", index.len() as u64, &index[..])
            .map_err(io_err)?;
        tar.dir("blobs/").map_err(io_err)?;
        let mut dirs_done = std::collections::BTreeSet::new();
        for (desc, src) in content.blobs.values() {
            let name = desc.digest.blob_path();
            if let Some((d, _)) = name.rsplit_once('/')
                && dirs_done.insert(d.to_owned())
            {
                tar.dir(&format!("{d}/")).map_err(io_err)?;
            }
            let src = open_source(src, desc)?;
            tar.file(&name, desc.size, src)
                .map_err(|e| match e.get_ref() {
                    Some(i) if i.is::<OciError>() => blob_error(&desc.digest, e).into(),
                    _ => FormatError::io(&tmp_path, e),
                })?;
        }
        let mut w = tar.finish().map_err(io_err)?;
        w.flush().map_err(io_err)?;
    }
    atomic::persist(tmp, path)?;
    Ok(entry)
}
