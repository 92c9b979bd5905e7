//! Shared by the explore commands (ls, tree, cat, cp, export, diff, layers): open an image
//! and its layers, build the merged view, and render one entry the way `ls -l` does.

use anyhow::{Context, Result, bail};
use husk_explore::xattr::{CAPABILITY_XATTR, describe_caps};
use husk_explore::{EntryKind, Filesystem, Limits, Node, ViewOptions, escape};
use husk_layer::ImagePath;
use husk_oci::{Image, ImageLayer};
use husk_transport::{Context as Transport, ImageRef};

use crate::cli::LimitArgs;
use crate::open::open_image;

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        let d = Limits::default();
        Limits {
            max_entries: self.max_entries.unwrap_or(d.max_entries),
            max_header_bytes: self.max_header_bytes.unwrap_or(d.max_header_bytes),
            max_layer_bytes: self.max_layer_bytes.unwrap_or(d.max_layer_bytes),
            max_image_bytes: self.max_image_bytes.unwrap_or(d.max_image_bytes),
            max_nodes: self.max_paths.unwrap_or(d.max_nodes),
            max_path_bytes: self.max_path_bytes.unwrap_or(d.max_path_bytes),
            max_xattr_bytes: self.max_xattr_bytes.unwrap_or(d.max_xattr_bytes),
        }
    }
}

/// An opened image; borrow its layers with [`Opened::layers`].
pub struct Opened {
    pub reference: ImageRef,
    pub image: Box<dyn Image>,
}

pub fn open(ctx: &Transport, reference: &str, platform: Option<&str>) -> Result<Opened> {
    let (reference, image) = open_image(ctx, reference, platform)?;
    Ok(Opened { reference, image })
}

impl Opened {
    pub fn layers(&self) -> Result<Vec<ImageLayer<'_, dyn Image + '_>>> {
        husk_oci::layers_of(self.image.as_ref())
            .with_context(|| format!("cannot read the layers of {}", self.reference))
    }

    /// The merged view (or layer `layer`'s own view).
    pub fn view(&self, layer: Option<usize>, limits: Limits, hash: bool) -> Result<Filesystem> {
        let layers = self.layers()?;
        let opts = ViewOptions { limits, hash };
        match layer {
            Some(n) => Filesystem::layer_view(&layers, n, opts),
            None => Filesystem::build(&layers, opts),
        }
        .with_context(|| format!("cannot read the filesystem of {}", self.reference))
    }
}

/// Look up a PATH argument in `fs` (the final symlink followed when `follow`). As in
/// POSIX, a PATH ending in `/` or `/.` names a directory: its final symlink is followed,
/// and anything else there is "not a directory".
pub fn lookup_arg<'f>(
    fs: &'f Filesystem,
    arg: &str,
    follow: bool,
) -> Result<(ImagePath, &'f Node)> {
    let path = image_path(arg)?;
    let wants_dir = arg.len() > 1 && (arg.ends_with('/') || arg.ends_with("/."));
    let (resolved, node) = fs.lookup(&path, follow || wants_dir)?;
    if wants_dir && !node.is_dir() {
        bail!(
            "{}: not a directory ({resolved:?} is a {})",
            escape(arg),
            node.noun()
        );
    }
    Ok((resolved, node))
}

/// Parse a PATH argument inside the image; relative paths are taken from the root.
pub fn image_path(s: &str) -> Result<ImagePath> {
    let p = if s.starts_with('/') {
        ImagePath::parse(s)
    } else {
        ImagePath::root().join(s)
    };
    p.with_context(|| format!("{s:?} is not a valid path inside an image"))
}

/// ` -> target` for links (escaped), `` otherwise.
pub fn link_suffix(node: &Node) -> String {
    match (&node.kind, &node.hardlink) {
        (EntryKind::Symlink(t), _) => format!(" -> {}", escape(t)),
        (_, Some(h)) => format!(" => {}", escape(h.as_str())),
        _ => String::new(),
    }
}

/// ` caps=...` (as `getcap` prints them) and ` xattrs=NAME,...` (the other extended
/// attributes, escaped) for a node that has them; `` for the many that have none.
pub fn xattr_suffix(node: &Node) -> String {
    let Some(x) = &node.xattrs else {
        return String::new();
    };
    let mut s = String::new();
    if let Some(caps) = node.capabilities() {
        s.push_str(" caps=");
        s.push_str(&describe_caps(&caps));
    }
    let others: Vec<&str> = x.names().filter(|n| *n != CAPABILITY_XATTR).collect();
    if !others.is_empty() {
        s.push_str(" xattrs=");
        s.push_str(&escape(&others.join(",")));
    }
    s
}

/// One `ls -l` line: mode, owner, size, layer, path, and the file capabilities and other
/// extended attributes when there are any.
pub fn long_line(path: &str, node: &Node) -> String {
    let size = match node.device {
        Some(d) if node.kind.is_device() => format!("{},{}", d.major, d.minor),
        _ => node.size.to_string(),
    };
    format!(
        "{} {:>5}:{:<5} {:>10} L{:<2} {}{}{}",
        node.mode_string(),
        node.uid,
        node.gid,
        size,
        node.layer,
        escape(path),
        link_suffix(node),
        xattr_suffix(node)
    )
}
