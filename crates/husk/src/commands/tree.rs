//! `husk tree IMAGE [PATH]`: the merged filesystem drawn as a tree, links shown with
//! their targets, names escaped.

use std::io::Write;

use anyhow::Result;
use husk_explore::{EntryKind, escape};

use crate::cli::TreeArgs;
use crate::commands::view::{image_path, link_suffix, open};
use crate::exit::Exit;
use crate::output::Printer;

pub fn run(args: &TreeArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let opened = open(ctx, &args.image, args.platform.as_deref())?;
    let fs = opened.view(args.layer, args.limits.limits(), false)?;
    let path = image_path(args.path.as_deref().unwrap_or("/"))?;
    let (root, _) = fs.lookup(&path, true)?;
    let mut out = printer.data_writer();
    writeln!(out, "{}", escape(root.as_str()))?;
    let depth0 = root.components().count();
    // For each depth, whether the ancestor at that depth is the last of its siblings.
    let mut last_at: Vec<bool> = Vec::new();
    let (mut dirs, mut files) = (0u64, 0u64);
    let all: Vec<_> = fs.walk(&root).skip(1).collect();
    for (i, (p, n)) in all.iter().enumerate() {
        let depth = p.components().count() - depth0;
        // In tree order, the next path at this depth or above is a sibling or nothing.
        let next = all[i + 1..]
            .iter()
            .map(|(q, _)| q.components().count() - depth0)
            .find(|&d| d <= depth);
        let is_last = next != Some(depth);
        last_at.truncate(depth - 1);
        let mut line = String::new();
        for &l in &last_at {
            line.push_str(if l { "    " } else { "│   " });
        }
        line.push_str(if is_last { "└── " } else { "├── " });
        line.push_str(&escape(p.file_name().unwrap_or("/")));
        line.push_str(&link_suffix(n));
        writeln!(out, "{line}")?;
        last_at.push(is_last);
        match n.kind {
            EntryKind::Dir => dirs += 1,
            _ => files += 1,
        }
    }
    writeln!(out, "\n{dirs} directories, {files} files")?;
    out.flush()?;
    Ok(Exit::Success)
}
