//! `husk tree IMAGE [PATH]`: the merged filesystem drawn as a tree, links shown with
//! their targets, names escaped.

use std::io::Write;

use anyhow::Result;
use husk_explore::{EntryKind, escape};

use crate::cli::TreeArgs;
use crate::commands::view::{link_suffix, lookup_arg, open};
use crate::exit::Exit;
use crate::output::Printer;

pub fn run(args: &TreeArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let opened = open(ctx, &args.image, args.platform.get())?;
    let fs = opened.view(args.layer, args.limits.limits(), false)?;
    let (root, _) = lookup_arg(&fs, args.path.as_deref().unwrap_or("/"), true)?;
    let mut out = printer.data_writer(true);
    writeln!(out, "{}", escape(root.as_str()))?;
    let depth0 = root.components().count();
    // For each depth, whether the ancestor at that depth is the last of its siblings.
    let mut last_at: Vec<bool> = Vec::new();
    let (mut dirs, mut files) = (0u64, 0u64);
    let all: Vec<_> = fs.walk(&root).skip(1).collect();
    let depths: Vec<usize> = all
        .iter()
        .map(|(p, _)| p.components().count() - depth0)
        .collect();
    let last = last_of_siblings(&depths);
    for (i, (p, n)) in all.iter().enumerate() {
        let (depth, is_last) = (depths[i], last[i]);
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

/// For paths in tree order at `depths` (1 = a child of the root shown), whether each is the
/// last of its siblings: one backward pass (deep trees must not cost a scan per path).
fn last_of_siblings(depths: &[usize]) -> Vec<bool> {
    let mut later_sibling: Vec<bool> = Vec::new();
    let mut last = vec![false; depths.len()];
    for (i, &d) in depths.iter().enumerate().rev() {
        // Anything deeper seen so far belongs below a later sibling or below this path.
        later_sibling.resize(d + 1, false);
        last[i] = !later_sibling[d];
        later_sibling[d] = true;
    }
    last
}

#[cfg(test)]
mod tests {
    use super::last_of_siblings;

    #[test]
    fn last_siblings_in_one_pass() {
        // a, a/x, a/y, b, b/z, c
        let d = [1, 2, 2, 1, 2, 1];
        assert_eq!(
            last_of_siblings(&d),
            [false, false, true, false, true, true]
        );
        assert_eq!(
            last_of_siblings(&[1, 2, 3, 3, 1]),
            [false, true, false, true, true]
        );
        assert!(last_of_siblings(&[]).is_empty());
    }
}
