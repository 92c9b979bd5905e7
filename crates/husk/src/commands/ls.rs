//! `husk ls IMAGE [PATH] [-l] [-R] [--layer N]`: list the merged filesystem (or one layer's
//! own entries). `-R` prints full paths of everything below PATH, one per line.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use husk_explore::xattr::{describe_caps, hex_value};
use husk_explore::{EntryKind, Node, escape};
use husk_layer::ImagePath;
use serde::Serialize;

use crate::cli::{Format, LsArgs};
use crate::commands::view::{image_path, long_line, lookup_arg, open};
use crate::exit::Exit;
use crate::output::Printer;

#[derive(Serialize)]
struct JsonEntry<'a> {
    path: &'a str,
    kind: &'static str,
    mode: String,
    uid: u64,
    gid: u64,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    layer: usize,
    /// File capabilities as `getcap` prints them (or why they are malformed).
    #[serde(skip_serializing_if = "Option::is_none")]
    capabilities: Option<String>,
    /// Every extended attribute, value as `getfattr -e hex` prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    xattrs: Option<BTreeMap<&'a str, String>>,
}

fn json_entry<'a>(path: &'a str, n: &'a Node) -> JsonEntry<'a> {
    JsonEntry {
        path,
        kind: n.noun(),
        mode: format!("{:04o}", n.mode),
        uid: n.uid,
        gid: n.gid,
        size: n.size,
        link: match (&n.kind, &n.hardlink) {
            (EntryKind::Symlink(t), _) => Some(t.clone()),
            (_, Some(h)) => Some(h.to_string()),
            _ => None,
        },
        layer: n.layer,
        capabilities: n.capabilities().map(|c| describe_caps(&c)),
        xattrs: n
            .xattrs
            .as_ref()
            .map(|x| x.iter().map(|(k, v)| (k, hex_value(v))).collect()),
    }
}

pub fn run(args: &LsArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let opened = open(ctx, &args.image, args.platform.get())?;
    let fs = opened.view(args.layer, args.limits.limits(), false)?;
    let arg = args.path.as_deref().unwrap_or("/");
    let path = image_path(arg)?;
    // Follow a final symlink to a directory unless -l asks about the link itself.
    let (resolved, node) = lookup_arg(&fs, arg, false)?;
    let (resolved, node) = match &node.kind {
        EntryKind::Symlink(_) if !args.long => match fs.lookup(&path, true) {
            Ok((r, n)) if n.is_dir() => (r, n),
            _ => (resolved, node),
        },
        _ => (resolved, node),
    };
    let entries: Vec<(&ImagePath, &Node)> = if !node.is_dir() {
        vec![(&resolved, node)]
    } else if args.recursive {
        fs.walk(&resolved).skip(1).collect()
    } else {
        fs.children(&resolved).collect()
    };
    let mut out = printer.data_writer(args.format == Format::Text);
    match args.format {
        Format::Json => {
            let list: Vec<JsonEntry> = entries
                .iter()
                .map(|(p, n)| json_entry(p.as_str(), n))
                .collect();
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
        Format::Text => {
            for (p, n) in entries {
                let shown = if args.recursive || !node.is_dir() {
                    p.as_str()
                } else {
                    p.file_name().unwrap_or("/")
                };
                if args.long {
                    writeln!(out, "{}", long_line(shown, n))?;
                } else {
                    let slash = if n.is_dir() { "/" } else { "" };
                    writeln!(out, "{}{slash}", escape(shown))?;
                }
            }
        }
    }
    out.flush()?;
    Ok(Exit::Success)
}
