//! The log's signing key, kept in the data directory.
//!
//! `log.key` holds the C2SP signed-note signer key string (`PRIVATE+KEY+<origin>+…`) with
//! owner-only permissions (0600); `log.vkey` the verifier key string that founders put in
//! the genesis document and nodes use to verify checkpoints.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use tlog::note::{KeyName, Signer};

use crate::HostError;

/// File name of the signer key in the data directory.
pub const KEY_FILE: &str = "log.key";
/// File name of the verifier key in the data directory.
pub const VKEY_FILE: &str = "log.vkey";

/// Loads the log key from `data`, or creates one for `origin` if there is none.
/// Returns the signer and whether it was created now.
pub fn load_or_create(data: &Path, origin: &str) -> Result<(Signer, bool), HostError> {
    let path = data.join(KEY_FILE);
    if path.exists() {
        let text = fs::read_to_string(&path).map_err(|e| HostError::io(&path, e))?;
        let signer = Signer::from_skey(text.trim())
            .map_err(|e| HostError::Config(format!("{} is not a log key: {e}", path.display())))?;
        if signer.name().as_ref() != origin {
            return Err(HostError::Config(format!(
                "{} is the key of log {:?}, not {origin:?}",
                path.display(),
                signer.name().as_ref()
            )));
        }
        return Ok((signer, false));
    }
    let name =
        KeyName::new(origin).map_err(|e| HostError::Config(format!("origin {origin:?}: {e}")))?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| HostError::Config(format!("no randomness: {e}")))?;
    let signer = Signer::from_seed(name, &seed);
    fs::create_dir_all(data).map_err(|e| HostError::io(data, e))?;
    write_private(&path, signer.to_skey().as_bytes())?;
    let vkey_path = data.join(VKEY_FILE);
    fs::write(&vkey_path, format!("{}\n", signer.verifier().to_vkey()))
        .map_err(|e| HostError::io(&vkey_path, e))?;
    Ok((signer, true))
}

/// Writes a secret file readable by its owner only, durably.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), HostError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| HostError::io(path, e))?;
    file.write_all(bytes).map_err(|e| HostError::io(path, e))?;
    file.write_all(b"\n").map_err(|e| HostError::io(path, e))?;
    file.sync_all().map_err(|e| HostError::io(path, e))
}
