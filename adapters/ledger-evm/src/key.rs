//! The gateway's signing key. It is loaded once, at start, and never printed: `Debug` and
//! `Display` show the address only, and errors name the file or variable, never the value.

use std::fmt;
use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use zeroize::Zeroizing;

/// A local secp256k1 key that signs the gateway's transactions.
#[derive(Clone)]
pub struct GatewayKey {
    signer: PrivateKeySigner,
}

/// Why a key could not be loaded. None of these carries key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The environment variable is not set (or not Unicode).
    #[error(
        "environment variable {var} is not set: it should hold the gateway key as 64 hex digits"
    )]
    EnvMissing {
        /// The variable's name.
        var: String,
    },
    /// The variable's value is not a 32-byte hex secp256k1 key.
    #[error("environment variable {var} does not hold a valid secp256k1 key (64 hex digits, 0x optional)")]
    EnvInvalid {
        /// The variable's name.
        var: String,
    },
    /// The keystore file could not be read or decrypted (wrong password, corrupt file).
    #[error("keystore {path}: cannot decrypt: {reason}")]
    Keystore {
        /// The file.
        path: PathBuf,
        /// The keystore library's reason (it carries no key material).
        reason: String,
    },
}

impl GatewayKey {
    /// Reads a hex key (64 hex digits, `0x` optional) from the environment variable `var`.
    pub fn from_env_hex(var: &str) -> Result<Self, KeyError> {
        let value = Zeroizing::new(std::env::var(var).map_err(|_| KeyError::EnvMissing {
            var: var.to_string(),
        })?);
        Self::from_hex(value.trim()).ok_or_else(|| KeyError::EnvInvalid {
            var: var.to_string(),
        })
    }

    /// Decrypts a Web3 Secret Storage (v3) keystore file.
    pub fn from_keystore(path: &Path, password: &str) -> Result<Self, KeyError> {
        let signer =
            PrivateKeySigner::decrypt_keystore(path, password).map_err(|e| KeyError::Keystore {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        Ok(Self { signer })
    }

    /// A key from hex (tests and tools); `None` when it is not a valid key.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let digits = hex.strip_prefix("0x").unwrap_or(hex);
        let bytes = Zeroizing::new(alloy::hex::decode(digits).ok()?);
        let signer = PrivateKeySigner::from_slice(&bytes).ok()?;
        Some(Self { signer })
    }

    /// The account this key signs for (the contract's `gateway`).
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    pub(crate) fn signer(&self) -> &PrivateKeySigner {
        &self.signer
    }
}

impl fmt::Debug for GatewayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayKey")
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for GatewayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gateway key for {}", self.address())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

    #[test]
    fn the_key_never_prints() {
        let key = GatewayKey::from_hex(&format!("0x{HEX}")).unwrap();
        for text in [format!("{key:?}"), format!("{key:#?}"), key.to_string()] {
            assert!(
                !text.to_lowercase().contains(&HEX[..16]),
                "key material in {text:?}"
            );
            assert!(
                text.to_lowercase()
                    .contains(&key.address().to_string().to_lowercase()),
                "{text:?} names the address"
            );
        }
    }

    #[test]
    fn reads_the_environment_and_names_the_variable_not_the_value() {
        let var = "CORRIDOR_LEDGER_EVM_TEST_KEY";
        std::env::set_var(var, format!(" {HEX}\n"));
        let key = GatewayKey::from_env_hex(var).unwrap();
        assert_eq!(key.address(), GatewayKey::from_hex(HEX).unwrap().address());
        std::env::set_var(var, "0x1234");
        let error = GatewayKey::from_env_hex(var).unwrap_err();
        assert!(matches!(error, KeyError::EnvInvalid { .. }) && error.to_string().contains(var));
        std::env::remove_var(var);
        assert!(matches!(
            GatewayKey::from_env_hex(var),
            Err(KeyError::EnvMissing { .. })
        ));
    }

    #[test]
    fn decrypts_a_keystore_file_and_refuses_a_wrong_password() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = alloy::hex::decode(HEX).unwrap();
        let (signer, _uuid) = PrivateKeySigner::encrypt_keystore(
            dir.path(),
            &mut rand::thread_rng(),
            &bytes,
            "pw",
            Some("gw.json"),
        )
        .unwrap();
        let path = dir.path().join("gw.json");
        let key = GatewayKey::from_keystore(&path, "pw").unwrap();
        assert_eq!(key.address(), signer.address());
        let error = GatewayKey::from_keystore(&path, "not the password").unwrap_err();
        assert!(error.to_string().contains("gw.json"), "{error}");
        assert!(!error.to_string().contains(&HEX[..16]));
    }
}
