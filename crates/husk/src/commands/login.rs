//! `husk login REGISTRY -u USER --password-stdin`: check the credentials against the
//! registry, then store them in the auth file (podman's auth.json by default; see
//! `husk_transport::login_file`). The password is read from stdin only, never from argv.

use std::io::Read;

use anyhow::{Context, Result, bail};
use husk_registry::Credentials;

use crate::cli::LoginArgs;
use crate::exit::Exit;
use crate::output::Printer;

/// `docker://host:port/`, `https://host`, `host` -> `host[:port]`.
fn registry_domain(s: &str) -> &str {
    let s = s
        .strip_prefix("docker://")
        .or_else(|| s.strip_prefix("https://"))
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    s.split('/').next().unwrap_or(s)
}

pub fn run(args: &LoginArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let domain = registry_domain(&args.registry);
    if domain.is_empty() {
        bail!("no registry given: husk login HOST[:PORT] -u USER --password-stdin");
    }
    if !args.password_stdin {
        bail!(
            "pass the password on standard input with --password-stdin (it is never read from the command line)"
        );
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("the password read from standard input is empty");
    }
    let creds = Credentials::new(args.username.clone(), password);
    let mut opts = ctx.registry_options().clone();
    opts.credentials = Some(creds.clone());
    husk_registry::check_login(domain, &opts)
        .with_context(|| format!("cannot log in to {domain}"))?;
    let file = ctx.login_file()?;
    husk_registry::auth::store(&file, domain, &creds)?;
    printer.info(format!(
        "login to {domain} as {:?} succeeded; credentials stored in {}",
        args.username,
        file.display()
    ));
    Ok(Exit::Success)
}
