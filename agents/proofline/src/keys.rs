//! Where the agents' keys come from: key files and encrypted JSON keystores (Web3 Secret
//! Storage), never the command line, where every user of the host reads them in `ps`.
//!
//! - A **key file** holds one private key in hex per line (`#` comments and blank lines are
//!   skipped). It should be readable by its owner only; a key file that others may read is
//!   refused.
//! - A **keystore** is an encrypted JSON key (what `geth account new`, `cast wallet import` and
//!   `proofline keystore import` write). Its password is the first line of
//!   `--keystore-password-file`, or the `PROOFLINE_KEYSTORE_PASSWORD` environment variable.
//!
//! `proofline keystore import` turns a key file into a keystore.

use std::path::{Path, PathBuf};

use alloy::signers::local::PrivateKeySigner;
use clap::Args;
use eyre::{bail, eyre, WrapErr};

/// The password of the keystores an agent is given.
#[derive(Args, Clone, Debug, Default)]
pub struct PasswordArgs {
    /// A file whose first line is the password of the keystore(s) given (or set
    /// PROOFLINE_KEYSTORE_PASSWORD).
    #[arg(long, env = "PROOFLINE_KEYSTORE_PASSWORD_FILE")]
    pub keystore_password_file: Option<PathBuf>,
}

/// The environment variable that may hold the keystore password instead of a file.
pub const PASSWORD_ENV: &str = "PROOFLINE_KEYSTORE_PASSWORD";

impl PasswordArgs {
    pub fn password(&self) -> eyre::Result<String> {
        if let Some(path) = &self.keystore_password_file {
            let text = std::fs::read_to_string(path)
                .wrap_err_with(|| format!("reading {}", path.display()))?;
            return Ok(text.lines().next().unwrap_or_default().to_owned());
        }
        std::env::var(PASSWORD_ENV).map_err(|_| {
            eyre!("a keystore needs its password: --keystore-password-file or {PASSWORD_ENV}")
        })
    }
}

/// The keys in a key file, in order.
pub fn read_key_file(path: &Path) -> eyre::Result<Vec<PrivateKeySigner>> {
    check_private(path)?;
    let text =
        std::fs::read_to_string(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = line
            .parse::<PrivateKeySigner>()
            .map_err(|e| eyre!("{}:{}: not a private key: {e}", path.display(), i + 1))?;
        keys.push(key);
    }
    Ok(keys)
}

/// The one key of a key file.
pub fn read_one_key(path: &Path) -> eyre::Result<PrivateKeySigner> {
    let mut keys = read_key_file(path)?;
    match keys.len() {
        1 => Ok(keys.remove(0)),
        n => bail!("{}: expected one key, found {n}", path.display()),
    }
}

/// The key in a keystore.
pub fn decrypt(path: &Path, password: &PasswordArgs) -> eyre::Result<PrivateKeySigner> {
    let password = password.password()?;
    PrivateKeySigner::decrypt_keystore(path, password)
        .map_err(|e| eyre!("keystore {}: {e}", path.display()))
}

/// The key an agent was given as `--<flag>-file` or `--<flag>-keystore` (at most one of them).
pub fn load(
    flag: &str,
    file: Option<&Path>,
    keystore: Option<&Path>,
    password: &PasswordArgs,
) -> eyre::Result<Option<PrivateKeySigner>> {
    match (file, keystore) {
        (Some(_), Some(_)) => bail!("--{flag}-file and --{flag}-keystore: give one"),
        (Some(file), None) => read_one_key(file)
            .map(Some)
            .wrap_err_with(|| format!("--{flag}-file")),
        (None, Some(keystore)) => decrypt(keystore, password)
            .map(Some)
            .wrap_err_with(|| format!("--{flag}-keystore")),
        (None, None) => Ok(None),
    }
}

/// As [`load`], for a key the agent cannot run without.
pub fn require(
    flag: &str,
    file: Option<&Path>,
    keystore: Option<&Path>,
    password: &PasswordArgs,
) -> eyre::Result<PrivateKeySigner> {
    load(flag, file, keystore, password)?
        .ok_or_else(|| eyre!("a key is needed: --{flag}-file or --{flag}-keystore"))
}

/// Refuses a key file that its group or others may read.
#[cfg(unix)]
fn check_private(path: &Path) -> eyre::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .wrap_err_with(|| format!("reading {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        bail!(
            "{}: a key file must be readable by its owner only (mode {:o}; chmod 600 it)",
            path.display(),
            mode & 0o777
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> eyre::Result<()> {
    Ok(())
}

/// `proofline keystore import`: encrypts the key of a key file into a keystore.
#[derive(Args)]
pub struct ImportArgs {
    /// The key file (one hex key).
    #[arg(long)]
    key_file: PathBuf,
    /// Where to write the keystore (a file; its directory is created).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    password: PasswordArgs,
}

pub fn import(args: ImportArgs) -> eyre::Result<()> {
    let key = read_one_key(&args.key_file)?;
    let password = args.password.password()?;
    let address = write_keystore(&key, &args.out, &password)?;
    println!("{address} -> {}", args.out.display());
    Ok(())
}

/// Writes `key` as a keystore at `out`, encrypted with `password`; returns its address.
pub fn write_keystore(
    key: &PrivateKeySigner,
    out: &Path,
    password: &str,
) -> eyre::Result<alloy::primitives::Address> {
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| eyre!("--out {}: not a file name", out.display()))?;
    let (signer, _) = PrivateKeySigner::encrypt_keystore(
        dir,
        &mut rand::rngs::OsRng,
        key.to_bytes(),
        password,
        Some(name),
    )
    .map_err(|e| eyre!("writing {}: {e}", out.display()))?;
    Ok(signer.address())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn private_file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    #[test]
    fn a_key_file_holds_keys_one_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (PrivateKeySigner::random(), PrivateKeySigner::random());
        let text = format!("# validators\n{}\n\n  {}  \n", a.to_bytes(), b.to_bytes());
        let path = private_file(dir.path(), "keys", &text);
        let keys = read_key_file(&path).unwrap();
        assert_eq!(
            keys.iter().map(|k| k.address()).collect::<Vec<_>>(),
            [a.address(), b.address()]
        );
        assert!(
            read_one_key(&path).is_err(),
            "two keys where one is expected"
        );
        let bad = private_file(dir.path(), "bad", "0x1234\n");
        let e = read_key_file(&bad).unwrap_err().to_string();
        assert!(e.contains("bad:1: not a private key"), "{e}");
    }

    #[test]
    fn a_key_file_others_may_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKeySigner::random();
        let path = private_file(dir.path(), "key", &format!("{}\n", key.to_bytes()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_one_key(&path).unwrap_err().to_string();
        assert!(e.contains("readable by its owner only"), "{e}");
    }

    #[test]
    fn a_keystore_opens_with_its_password_only() {
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKeySigner::random();
        let out = dir.path().join("ks").join("prover.json");
        assert_eq!(
            write_keystore(&key, &out, "hunter2").unwrap(),
            key.address()
        );
        let right = PasswordArgs {
            keystore_password_file: Some(private_file(dir.path(), "pw", "hunter2\n")),
        };
        let wrong = PasswordArgs {
            keystore_password_file: Some(private_file(dir.path(), "pw2", "hunter3\n")),
        };
        let opened = load("prover-key", None, Some(&out), &right)
            .unwrap()
            .unwrap();
        assert_eq!(opened.address(), key.address());
        assert!(load("prover-key", None, Some(&out), &wrong).is_err());
        // One source at most, and none is none.
        let file = private_file(dir.path(), "k", &format!("{}\n", key.to_bytes()));
        assert!(load("prover-key", Some(&file), Some(&out), &right).is_err());
        assert!(load("prover-key", None, None, &right).unwrap().is_none());
        assert!(require("prover-key", None, None, &right).is_err());
    }
}
