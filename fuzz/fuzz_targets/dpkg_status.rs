//! dpkg's `status` and `status.d` entries (deb822): finding and checking paragraphs, the
//! field lookups done without splitting a paragraph, and the installed packages never
//! panic, and the lookups agree with the split paragraph.
#![no_main]

use libfuzzer_sys::fuzz_target;

use husk_sbom::DebPackage;

fuzz_target!(|data: &[u8]| {
    let Ok(raws) = husk_sbom::deb822_paragraphs(data, "fuzz") else {
        assert!(husk_sbom::parse_deb822(data, "fuzz").is_err());
        return;
    };
    let text = std::str::from_utf8(data).expect("accepted text is UTF-8");
    for raw in &raws {
        assert_eq!(&text[raw.range()], raw.text());
        let parsed = raw.parse();
        assert!(!parsed.fields.is_empty());
        let names = DebPackage::FIELDS;
        assert_eq!(raw.first_lines(names), names.map(|n| parsed.first_line(n)));
    }
    let packages = husk_sbom::parse_dpkg_status(data, "fuzz").expect("the paragraphs parsed");
    for package in packages {
        let paragraph = package.paragraph();
        assert_eq!(paragraph.first_line("Package"), Some(package.name.as_str()));
        let _ = husk_sbom::status_entry(&paragraph);
    }
});
