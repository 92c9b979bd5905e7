//! Hostile bytes never panic any parser: deb822, dpkg status, apk installed, DEP-5,
//! Go build info (with and without a valid header) and cargo-auditable data.

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_survive_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = husk_sbom::parse_deb822(&bytes, "x");
        let _ = husk_sbom::parse_dpkg_status(&bytes, "x");
        let _ = husk_sbom::parse_apk_installed(&bytes, "x");
        let _ = husk_sbom::parse_copyright(&bytes);
        let _ = husk_sbom::parse_go_build_info(&bytes);
        let _ = husk_sbom::rust_crates(&bytes, "x");
        let _ = husk_sbom::go_build_info(&bytes, "x");
        let mut go = b"\xff Go buildinf:\x08\x02".to_vec();
        go.resize(32, 0);
        go.extend(&bytes);
        let _ = husk_sbom::parse_go_build_info(&go);
    }

    #[test]
    fn deb822_text_round_trips(text in "([A-Z][a-z-]{0,6}: [ -~]{0,12}\n( [ -~]{1,8}\n)?){1,5}") {
        let paras = husk_sbom::parse_deb822(text.as_bytes(), "x").unwrap();
        // Paragraphs are separated by a blank line (a line of only white space in the
        // input is one too, so the generator can make several paragraphs).
        let again = paras
            .iter()
            .map(husk_sbom::Paragraph::to_text)
            .collect::<Vec<_>>()
            .join("\n");
        let reparsed = husk_sbom::parse_deb822(again.as_bytes(), "x").unwrap();
        prop_assert_eq!(paras, reparsed);
    }
}
