//! HUSK-I008: a program that does TLS, with no usable CA bundle in the image.

use super::{find_library, start_elf};
use crate::content::{parse_bundle, tls_library};
use husk_explore::EntryKind;
use husk_layer::ImagePath;

use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct TlsWithoutTrust;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I008",
    name: "tls-without-trust",
    target: Target::Image,
    severity: Severity::High,
    summary: "The program does TLS but the image has no usable CA certificates",
    explanation: "OpenSSL, GnuTLS, Go's crypto/tls and rustls with native roots read the trust store from the image (/etc/ssl/certs/ca-certificates.crt and the other well-known bundle paths, or `SSL_CERT_FILE`/`SSL_CERT_DIR`). A FROM-scratch image has none, so every outgoing HTTPS call fails with \"certificate signed by unknown authority\" or \"unable to get local issuer certificate\". A bundle that does not parse or whose certificates have all expired is no better. husk detects TLS by the libraries the program links (libssl, libgnutls, ...) and by the strings statically linked implementations carry (rustls, Go crypto/tls, BoringSSL, ...).",
    fix: "Add a CA bundle at /etc/ssl/certs/ca-certificates.crt (husk build does, from the host or `--ca-certs`), e.g. `COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/`.",
    references: &[],
};

/// Bundle files, as OpenSSL, Go and rustls-native-certs look for them.
const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

impl Rule for TlsWithoutTrust {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let Some((path, e, elf)) = start_elf(image) else {
            return;
        };
        let tls = image.content_of(e).and_then(|c| c.tls.clone()).or_else(|| {
            elf.needed.iter().find_map(|n| {
                if let Some(l) = tls_library(n) {
                    return Some(l.to_owned());
                }
                let lib = find_library(image, n, path.as_str(), &elf.rpath, &elf.runpath)?;
                image.content(&lib)?.tls.clone()
            })
        });
        let Some(tls) = tls else { return };
        let mut candidates: Vec<String> = image.env("SSL_CERT_FILE").into_iter().collect();
        candidates.extend(BUNDLES.iter().map(|s| (*s).to_owned()));
        let dir = image
            .env("SSL_CERT_DIR")
            .unwrap_or_else(|| "/etc/ssl/certs".into());
        let dir = image.resolve(&dir).map_or(dir, |d| d.to_string());
        candidates.extend(
            image
                .files
                .walk(&ImagePath::root())
                .filter(|(p, e)| {
                    p.as_str()
                        .strip_prefix(&dir)
                        .is_some_and(|r| r.starts_with('/') && !r[1..].contains('/'))
                        && matches!(e.kind, EntryKind::File | EntryKind::Symlink(_))
                })
                .map(|(p, _)| p.to_string()),
        );
        let (mut certs, mut expired, mut unreadable) = (0, 0, Vec::new());
        for c in &candidates {
            let Some((real, entry)) = image.lookup(c) else {
                continue;
            };
            if !entry.is_file() {
                continue;
            }
            match image.bytes(real.as_str()) {
                Some(b) => {
                    let bundle = parse_bundle(b, image.now);
                    if bundle.certs == 0 && BUNDLES.contains(&c.as_str()) {
                        unreadable.push(c.clone());
                    }
                    certs += bundle.certs;
                    expired += bundle.expired;
                }
                None if BUNDLES.contains(&c.as_str()) => unreadable.push(c.clone()),
                None => {}
            }
        }
        let what = format!("{path} uses TLS ({tls})");
        if certs == 0 && unreadable.is_empty() {
            out.path(
                &path,
                Some(e.layer),
                format!(
                    "{what} but the image has no CA certificates (looked in {} and {dir})",
                    BUNDLES[0]
                ),
            );
        } else if certs == 0 {
            out.path(
                &unreadable[0],
                None,
                format!("{what} but the CA bundle holds no certificate that parses"),
            );
        } else if expired == certs {
            out.path(
                &path,
                Some(e.layer),
                format!("{what} but all {certs} CA certificates in the image have expired"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, elf, messages, run_image};

    fn tls_app() -> Fake {
        Fake::new()
            .exe(
                "/app",
                &elf(62, None, &[], b"...rustls-0.23.46/src/conn.rs..."),
            )
            .entrypoint(&["/app"])
    }

    #[test]
    fn fires_without_a_bundle_or_with_garbage() {
        let m = messages(&run_image(&TlsWithoutTrust, &tls_app().facts()));
        assert!(
            m[0].contains("rustls") && m[0].contains("no CA certificates"),
            "{m:?}"
        );
        let f = tls_app()
            .file(
                "/etc/ssl/certs/ca-certificates.crt",
                b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            )
            .facts();
        assert!(messages(&run_image(&TlsWithoutTrust, &f))[0].contains("parses"));
    }

    #[test]
    fn quiet_with_a_valid_bundle_or_without_tls() {
        let pem = std::fs::read("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
        if !pem.is_empty() {
            let f = tls_app()
                .file("/etc/ssl/certs/ca-certificates.crt", &pem)
                .facts();
            assert!(run_image(&TlsWithoutTrust, &f).is_empty());
        }
        let f = Fake::new()
            .exe("/app", &elf(62, None, &[], b"plain"))
            .entrypoint(&["/app"])
            .facts();
        assert!(run_image(&TlsWithoutTrust, &f).is_empty());
    }
}
