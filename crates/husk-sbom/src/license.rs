//! Licences: the `License:` short names of a machine-readable Debian copyright file
//! (DEP-5, <https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/>), kept as
//! the package states them, and their translation into SPDX license expressions for the
//! documents (known Debian short names map to SPDX ids; anything else becomes a
//! `LicenseRef-`).

use std::collections::BTreeSet;

use crate::deb822;

/// What a package's copyright file says about its licence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum License {
    /// The distinct `License:` names of the `Files` paragraphs (sorted), as written.
    Declared(Vec<String>),
    /// No machine-readable copyright file (or one without `License:` fields).
    NoAssertion,
}

/// Reads a copyright file: DEP-5 when its first paragraph has a `Format:` field.
#[must_use]
pub fn parse_copyright(bytes: &[u8]) -> License {
    let Ok(paragraphs) = deb822::parse(bytes, "copyright") else {
        return License::NoAssertion;
    };
    if paragraphs.first().and_then(|p| p.get("Format")).is_none() {
        return License::NoAssertion;
    }
    let names: BTreeSet<String> = paragraphs
        .iter()
        .filter(|p| p.get("Files").is_some())
        .filter_map(|p| p.first_line("License"))
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        License::NoAssertion
    } else {
        License::Declared(names.into_iter().collect())
    }
}

/// Debian short names (lowercased) and the SPDX ids they stand for.
const DEBIAN_TO_SPDX: &[(&str, &str)] = &[
    ("apache-2.0", "Apache-2.0"),
    ("artistic", "Artistic-1.0-Perl"),
    ("artistic-2.0", "Artistic-2.0"),
    ("bsd-2-clause", "BSD-2-Clause"),
    ("bsd-3-clause", "BSD-3-Clause"),
    ("bsd-4-clause", "BSD-4-Clause"),
    ("bsl-1.0", "BSL-1.0"),
    ("cc0-1.0", "CC0-1.0"),
    ("curl", "curl"),
    ("expat", "MIT"),
    ("gfdl-1.2", "GFDL-1.2-only"),
    ("gfdl-1.2+", "GFDL-1.2-or-later"),
    ("gfdl-1.3", "GFDL-1.3-only"),
    ("gfdl-1.3+", "GFDL-1.3-or-later"),
    ("gpl-1", "GPL-1.0-only"),
    ("gpl-1+", "GPL-1.0-or-later"),
    ("gpl-2", "GPL-2.0-only"),
    ("gpl-2+", "GPL-2.0-or-later"),
    ("gpl-2.0", "GPL-2.0-only"),
    ("gpl-2.0+", "GPL-2.0-or-later"),
    ("gpl-3", "GPL-3.0-only"),
    ("gpl-3+", "GPL-3.0-or-later"),
    ("gpl-3.0", "GPL-3.0-only"),
    ("gpl-3.0+", "GPL-3.0-or-later"),
    ("isc", "ISC"),
    ("lgpl-2", "LGPL-2.0-only"),
    ("lgpl-2+", "LGPL-2.0-or-later"),
    ("lgpl-2.0", "LGPL-2.0-only"),
    ("lgpl-2.0+", "LGPL-2.0-or-later"),
    ("lgpl-2.1", "LGPL-2.1-only"),
    ("lgpl-2.1+", "LGPL-2.1-or-later"),
    ("lgpl-3", "LGPL-3.0-only"),
    ("lgpl-3+", "LGPL-3.0-or-later"),
    ("lgpl-3.0", "LGPL-3.0-only"),
    ("lgpl-3.0+", "LGPL-3.0-or-later"),
    ("mit", "MIT"),
    ("mpl-1.1", "MPL-1.1"),
    ("mpl-2.0", "MPL-2.0"),
    ("openssl", "OpenSSL"),
    ("psf-2", "PSF-2.0"),
    ("python-2.0", "Python-2.0"),
    ("unicode-dfs-2016", "Unicode-DFS-2016"),
    ("x11", "X11"),
    ("zlib", "Zlib"),
];

/// One licence name as an SPDX id: `Ok(id)` for a known one, `Err(licence-ref)` for a
/// `LicenseRef-` that the document must declare.
///
/// # Errors
/// The name has no SPDX id; the error is the `LicenseRef-` to use instead.
pub fn spdx_id(name: &str) -> Result<&'static str, String> {
    let lower = name.trim().to_ascii_lowercase();
    DEBIAN_TO_SPDX
        .iter()
        .find(|(deb, _)| *deb == lower)
        .map(|(_, spdx)| *spdx)
        .ok_or_else(|| license_ref(name))
}

/// `LicenseRef-` followed by the name with every character SPDX does not allow in an
/// idstring (`[A-Za-z0-9.-]`) replaced by `-`.
#[must_use]
pub fn license_ref(name: &str) -> String {
    let id: String = name
        .trim()
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '.' | '-' => c,
            '+' => 'p',
            _ => '-',
        })
        .collect();
    format!("LicenseRef-{}", if id.is_empty() { "unnamed" } else { &id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep5_collects_files_licenses() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
Upstream-Name: x\n\nFiles: *\nCopyright: me\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: LGPL-2.1+\n\n\
License: GPL-2+\n full text\n\nFiles: b/*\nLicense: GPL-2+\n";
        assert_eq!(
            parse_copyright(text.as_bytes()),
            License::Declared(vec!["GPL-2+".into(), "LGPL-2.1+".into()])
        );
    }

    #[test]
    fn free_form_copyright_is_no_assertion() {
        let text = "This is the Debian prepackaged version of foo.\n\nCopyright: 1999 someone\n";
        assert_eq!(parse_copyright(text.as_bytes()), License::NoAssertion);
        assert_eq!(parse_copyright(b"\xff\xfe"), License::NoAssertion);
        assert_eq!(
            parse_copyright(b"Format: x\n\nFiles: *\n"),
            License::NoAssertion
        );
    }

    #[test]
    fn spdx_mapping() {
        assert_eq!(spdx_id("GPL-2+"), Ok("GPL-2.0-or-later"));
        assert_eq!(spdx_id("Expat"), Ok("MIT"));
        assert_eq!(
            spdx_id("public-domain"),
            Err("LicenseRef-public-domain".into())
        );
        assert_eq!(
            spdx_id("GPL-2+ with OpenSSL exception"),
            Err("LicenseRef-GPL-2p-with-OpenSSL-exception".into())
        );
        assert_eq!(license_ref(""), "LicenseRef-unnamed");
    }
}
