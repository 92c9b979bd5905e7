//! Differences between two filesystem views (files) and two image configs (settings):
//! the answer to "why did my rebuild change the digest". File content is compared by the
//! sha256 computed while the views were built (`ViewOptions::hash`), so no content is
//! held in memory.

use std::collections::BTreeMap;

use husk_layer::ImagePath;
use husk_oci::ImageConfig;
use serde::Serialize;

use husk_layer::EntryKind;

use crate::fs::{Filesystem, Node};
use crate::xattr::{CAPABILITY_XATTR, Xattrs, describe_caps, hex_value};

/// One attribute that differs for a path present in both views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum Change {
    Kind {
        old: String,
        new: String,
    },
    Size {
        old: u64,
        new: u64,
    },
    Mode {
        old: u32,
        new: u32,
    },
    Owner {
        old: String,
        new: String,
    },
    Link {
        old: String,
        new: String,
    },
    Content {
        old: String,
        new: String,
    },
    /// File capabilities (`security.capability`) as `getcap` prints them, `none` without.
    Capabilities {
        old: String,
        new: String,
    },
    /// Other extended attributes that differ, `name=0xVALUE` (long values shortened),
    /// `none` without.
    Xattrs {
        old: String,
        new: String,
    },
}

/// What happened to one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PathDiff {
    Added { path: String, kind: String },
    Removed { path: String, kind: String },
    Changed { path: String, changes: Vec<Change> },
}

fn link_of(n: &Node) -> String {
    match (&n.kind, &n.hardlink) {
        (EntryKind::Symlink(t), _) => t.clone(),
        (_, Some(h)) => format!("hard link to {h}"),
        _ => String::new(),
    }
}

fn changes(a: &Node, b: &Node) -> Vec<Change> {
    let mut out = Vec::new();
    if a.noun() != b.noun() {
        out.push(Change::Kind {
            old: a.noun().into(),
            new: b.noun().into(),
        });
        return out;
    }
    if a.size != b.size {
        out.push(Change::Size {
            old: a.size,
            new: b.size,
        });
    }
    if a.mode != b.mode {
        out.push(Change::Mode {
            old: a.mode,
            new: b.mode,
        });
    }
    if (a.uid, a.gid) != (b.uid, b.gid) {
        out.push(Change::Owner {
            old: format!("{}:{}", a.uid, a.gid),
            new: format!("{}:{}", b.uid, b.gid),
        });
    }
    let (la, lb) = (link_of(a), link_of(b));
    if la != lb && matches!(a.kind, EntryKind::Symlink(_)) {
        out.push(Change::Link { old: la, new: lb });
    }
    if let (Some(da), Some(db)) = (&a.digest, &b.digest)
        && da != db
    {
        out.push(Change::Content {
            old: da.to_string(),
            new: db.to_string(),
        });
    }
    if a.xattrs != b.xattrs {
        xattr_changes(a, b, &mut out);
    }
    if a.kind.is_device() && a.device != b.device {
        let numbers = |n: &Node| {
            n.device
                .map_or_else(String::new, |d| format!(" {},{}", d.major, d.minor))
        };
        out.push(Change::Kind {
            old: format!("{}{}", a.noun(), numbers(a)),
            new: format!("{}{}", b.noun(), numbers(b)),
        });
    }
    out
}

/// Hex bytes of an attribute value shown in a diff; longer values are shortened.
const SHOWN_VALUE_BYTES: usize = 32;

fn value<'a>(n: &'a Node, name: &str) -> Option<&'a [u8]> {
    n.xattrs.as_ref().and_then(|x| x.get(name))
}

/// The capabilities and the other extended attributes that differ between `a` and `b`.
fn xattr_changes(a: &Node, b: &Node, out: &mut Vec<Change>) {
    let caps = |n: &Node| {
        n.capabilities()
            .map_or_else(|| "none".to_owned(), |c| describe_caps(&c))
    };
    let (va, vb) = (value(a, CAPABILITY_XATTR), value(b, CAPABILITY_XATTR));
    if va != vb {
        let (mut ca, mut cb) = (caps(a), caps(b));
        if ca == cb {
            // The same capabilities encoded differently (another revision or root id).
            ca = format!("{ca} ({})", hex_value(va.unwrap_or_default()));
            cb = format!("{cb} ({})", hex_value(vb.unwrap_or_default()));
        }
        out.push(Change::Capabilities { old: ca, new: cb });
    }
    let names = |n: &Node| -> Vec<String> {
        n.xattrs
            .iter()
            .flat_map(|x| x.names())
            .filter(|name| *name != CAPABILITY_XATTR)
            .map(str::to_owned)
            .collect()
    };
    let mut differing: Vec<String> = names(a).into_iter().chain(names(b)).collect();
    differing.sort();
    differing.dedup();
    differing.retain(|name| value(a, name) != value(b, name));
    if differing.is_empty() {
        return;
    }
    let show = |x: Option<&Xattrs>| {
        let shown: Vec<String> = differing
            .iter()
            .filter_map(|name| {
                let v = x?.get(name)?;
                let mut hex = hex_value(&v[..v.len().min(SHOWN_VALUE_BYTES)]);
                if v.len() > SHOWN_VALUE_BYTES {
                    hex.push_str("...");
                }
                Some(format!("{name}={hex}"))
            })
            .collect();
        if shown.is_empty() {
            "none".to_owned()
        } else {
            shown.join(", ")
        }
    };
    out.push(Change::Xattrs {
        old: show(a.xattrs.as_deref()),
        new: show(b.xattrs.as_deref()),
    });
}

/// Paths added, removed and changed from `a` to `b`, in tree order (every path below an
/// added or removed directory is listed too).
pub fn diff_files(a: &Filesystem, b: &Filesystem) -> Vec<PathDiff> {
    let root = ImagePath::root();
    let mut out = Vec::new();
    let mut ia = a.walk(&root).peekable();
    let mut ib = b.walk(&root).peekable();
    loop {
        let order = match (ia.peek(), ib.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((pa, _)), Some((pb, _))) => tree_cmp(pa, pb),
        };
        match order {
            std::cmp::Ordering::Less => {
                let (p, n) = ia.next().expect("peeked");
                out.push(PathDiff::Removed {
                    path: p.to_string(),
                    kind: n.kind.noun().into(),
                });
            }
            std::cmp::Ordering::Greater => {
                let (p, n) = ib.next().expect("peeked");
                out.push(PathDiff::Added {
                    path: p.to_string(),
                    kind: n.kind.noun().into(),
                });
            }
            std::cmp::Ordering::Equal => {
                let (p, na) = ia.next().expect("peeked");
                let (_, nb) = ib.next().expect("peeked");
                let c = changes(na, nb);
                if !c.is_empty() {
                    out.push(PathDiff::Changed {
                        path: p.to_string(),
                        changes: c,
                    });
                }
            }
        }
    }
    out
}

/// The order [`Filesystem::walk`] uses: component-wise, `/` before every other byte.
fn tree_cmp(a: &ImagePath, b: &ImagePath) -> std::cmp::Ordering {
    let (x, y) = (a.as_str().as_bytes(), b.as_str().as_bytes());
    for (p, q) in x.iter().zip(y) {
        if p != q {
            return match (*p == b'/', *q == b'/') {
                (true, _) => std::cmp::Ordering::Less,
                (_, true) => std::cmp::Ordering::Greater,
                _ => p.cmp(q),
            };
        }
    }
    x.len().cmp(&y.len())
}

/// One config setting that differs (`config.Env`, `architecture`, `history[2].created_by`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigChange {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// The settings that differ between two image configs, flattened to dotted keys and
/// sorted. `rootfs.diff_ids` is included: it is what changes when any file changes.
pub fn diff_config(a: &ImageConfig, b: &ImageConfig) -> Vec<ConfigChange> {
    let (mut fa, mut fb) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &serde_json::to_value(a).unwrap_or_default(), &mut fa);
    flatten("", &serde_json::to_value(b).unwrap_or_default(), &mut fb);
    let mut keys: Vec<&String> = fa.keys().chain(fb.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| fa.get(*k) != fb.get(*k))
        .map(|k| ConfigChange {
            key: k.clone(),
            old: fa.get(k).cloned(),
            new: fb.get(k).cloned(),
        })
        .collect()
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}
