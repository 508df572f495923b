//! Sealing secrets at rest with XChaCha20-Poly1305 under a 32-byte master key.
//!
//! A sealed value is `MAGIC | key id (8 bytes) | nonce (24 bytes) | ciphertext + tag`. The key id is derived from
//! the key, so a value sealed under another key is reported as "sealed with key X, configured key is Y", never
//! decrypted into garbage. Callers pass associated data (e.g. `tenant/secret-name`) that binds a ciphertext to
//! its row: a sealed value copied onto another row does not open.
//!
//! The master key comes from `MLC_MASTER_KEY` (base64 of 32 bytes) or a key file; see [`KeySource`].

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"mlv1";
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = MAGIC.len() + KEY_ID_LEN + NONCE_LEN;

/// Short, non-secret identifier of a master key (hex of a domain-separated SHA-256 prefix).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    fn of(key: &[u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"ml-connector/vault/key-id/v1")
            .chain_update(key)
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Self(id)
    }

    /// Parses the hex form written by [`fmt::Display`].
    pub fn parse(hex_id: &str) -> Option<Self> {
        let bytes = hex::decode(hex_id).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Why sealing or opening failed. Messages never contain key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "no master key: set MLC_MASTER_KEY to base64 of 32 random bytes (`ml-connector vault generate-key` makes one) \
         or point vault.key_file at a file holding it"
    )]
    NoKey,
    #[error("the master key from {source_name} is unusable: {reason}")]
    BadKey { source_name: String, reason: String },
    #[error(
        "the stored secrets were sealed with master key {sealed_with}, but the configured key is {configured}; \
         set MLC_MASTER_KEY (or vault.key_file) to the key that sealed them"
    )]
    WrongKey {
        sealed_with: KeyId,
        configured: KeyId,
    },
    #[error(
        "a sealed value is damaged or belongs to another record (authentication failed under key {key_id})"
    )]
    Tampered { key_id: KeyId },
    #[error("a sealed value is malformed: {0}")]
    Malformed(&'static str),
    #[error("cannot read or write key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The 32-byte master key. Never printed: `Debug` shows only the key id.
pub struct MasterKey {
    key: SecretBox<[u8; 32]>,
    id: KeyId,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// A fresh random key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        Self::from_bytes(key)
    }

    fn from_bytes(key: [u8; 32]) -> Self {
        let id = KeyId::of(&key);
        Self {
            key: SecretBox::new(Box::new(key)),
            id,
        }
    }

    /// Parses base64 (standard alphabet, surrounding whitespace ignored) of exactly 32 bytes.
    pub fn from_base64(text: &str, source_name: &str) -> Result<Self, VaultError> {
        let bad = |reason: String| VaultError::BadKey {
            source_name: source_name.to_string(),
            reason,
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(bad("it is empty".into()));
        }
        let bytes = B64
            .decode(trimmed)
            .map_err(|_| bad("it is not valid base64".into()))?;
        let len = bytes.len();
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            bad(format!(
                "it decodes to {len} bytes; exactly 32 are required"
            ))
        })?;
        Ok(Self::from_bytes(key))
    }

    /// The key as base64, for writing a key file or showing once to an operator.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(B64.encode(self.key.expose_secret()))
    }

    /// The key's public identifier.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// A 32-byte key for another purpose, derived from this one: HMAC-SHA256 keyed by the master key over
    /// `label`. Use one label per purpose (and a new label to rotate a purpose's key); never use the master key
    /// itself for anything but sealing.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<Sha256> as Mac>::new_from_slice(self.key.expose_secret())
            .expect("HMAC takes keys of any length");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// Where the master key comes from, in order of precedence.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// The base64 value of `MLC_MASTER_KEY`.
    Env(SecretString),
    /// A configured key file (must exist).
    File(PathBuf),
    /// The embedded default `{data_dir}/master.key`, created on a fresh database.
    DefaultFile(PathBuf),
}

impl KeySource {
    /// Picks the source: `MLC_MASTER_KEY` if set, else `vault.key_file`, else `{data_dir}/master.key`.
    pub fn resolve(env_key: Option<SecretString>, key_file: &str, data_dir: &Path) -> Self {
        match env_key {
            Some(k) if !k.expose_secret().trim().is_empty() => Self::Env(k),
            _ if !key_file.trim().is_empty() => Self::File(PathBuf::from(key_file.trim())),
            _ => Self::DefaultFile(data_dir.join("master.key")),
        }
    }

    /// Human-readable origin, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Env(_) => "MLC_MASTER_KEY".to_string(),
            Self::File(p) | Self::DefaultFile(p) => format!("key file {}", p.display()),
        }
    }

    /// Loads the key. `may_create` allows creating the default key file when it does not exist (only ever
    /// true on a database that holds no sealed data).
    pub fn load(&self, may_create: bool) -> Result<MasterKey, VaultError> {
        match self {
            Self::Env(k) => MasterKey::from_base64(k.expose_secret(), "MLC_MASTER_KEY"),
            Self::File(path) => read_key_file(path),
            Self::DefaultFile(path) => match read_key_file(path) {
                Err(VaultError::KeyFile { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound && may_create =>
                {
                    let key = MasterKey::generate();
                    write_key_file(path, &key)?;
                    tracing::warn!(
                        path = %path.display(),
                        key_id = %key.id(),
                        "generated a new master key next to the database; for production set MLC_MASTER_KEY \
                         or vault.key_file and keep the key away from the data"
                    );
                    Ok(key)
                }
                Err(VaultError::KeyFile { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    Err(VaultError::NoKey)
                }
                other => other,
            },
        }
    }
}

/// Reads a base64 key file.
pub fn read_key_file(path: &Path) -> Result<MasterKey, VaultError> {
    let text = std::fs::read_to_string(path).map_err(|source| VaultError::KeyFile {
        path: path.to_path_buf(),
        source,
    })?;
    MasterKey::from_base64(&text, &format!("key file {}", path.display()))
}

/// Writes a key file atomically (temp file + rename) with mode 0600.
pub fn write_key_file(path: &Path, key: &MasterKey) -> Result<(), VaultError> {
    let io = |source| VaultError::KeyFile {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(key.to_base64().expose_secret().as_bytes())
            .map_err(io)?;
        file.write_all(b"\n").map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

/// Seals and opens secrets under one master key.
pub struct Vault {
    key: MasterKey,
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("key_id", &self.key.id)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// A vault over `key`.
    pub fn new(key: MasterKey) -> Self {
        let cipher = XChaCha20Poly1305::new(key.key.expose_secret().into());
        Self { key, cipher }
    }

    /// The id of the key this vault seals with.
    pub fn key_id(&self) -> KeyId {
        self.key.id
    }

    /// The master key (for rotation and key-file writing).
    pub fn master_key(&self) -> &MasterKey {
        &self.key
    }

    /// Seals `plaintext`, bound to `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(HEADER_LEN + ciphertext.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.key.id.0);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// The key id a sealed value carries, without opening it.
    pub fn sealed_key_id(sealed: &[u8]) -> Result<KeyId, VaultError> {
        if sealed.len() < HEADER_LEN + 16 {
            return Err(VaultError::Malformed("too short"));
        }
        if &sealed[..MAGIC.len()] != MAGIC {
            return Err(VaultError::Malformed("unknown format"));
        }
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&sealed[MAGIC.len()..MAGIC.len() + KEY_ID_LEN]);
        Ok(KeyId(id))
    }

    /// Opens a sealed value bound to `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<SecretBox<Vec<u8>>, VaultError> {
        let key_id = Self::sealed_key_id(sealed)?;
        if key_id != self.key.id {
            return Err(VaultError::WrongKey {
                sealed_with: key_id,
                configured: self.key.id,
            });
        }
        let nonce = XNonce::from_slice(&sealed[MAGIC.len() + KEY_ID_LEN..HEADER_LEN]);
        let plaintext = self
            .cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad,
                },
            )
            .map_err(|_| VaultError::Tampered { key_id })?;
        Ok(SecretBox::new(Box::new(plaintext)))
    }

    /// Opens a sealed UTF-8 string.
    pub fn open_string(&self, aad: &[u8], sealed: &[u8]) -> Result<SecretString, VaultError> {
        let bytes = self.open(aad, sealed)?;
        let text = std::str::from_utf8(bytes.expose_secret())
            .map_err(|_| VaultError::Malformed("not UTF-8"))?;
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let vault = Vault::new(MasterKey::generate());
        let sealed = vault.seal(b"acme/workday-password", b"hunter2");
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        let opened = vault
            .open_string(b"acme/workday-password", &sealed)
            .unwrap();
        assert_eq!(opened.expose_secret(), "hunter2");
        assert!(matches!(
            vault.open(b"acme/zendesk-api-token", &sealed),
            Err(VaultError::Tampered { .. })
        ));
    }

    #[test]
    fn tampering_and_wrong_key_are_reported() {
        let vault = Vault::new(MasterKey::generate());
        let mut sealed = vault.seal(b"a", b"secret");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(matches!(
            vault.open(b"a", &sealed),
            Err(VaultError::Tampered { .. })
        ));
        let other = Vault::new(MasterKey::generate());
        let sealed = vault.seal(b"a", b"secret");
        let err = other.open(b"a", &sealed).unwrap_err();
        assert!(matches!(err, VaultError::WrongKey { .. }));
        assert!(err.to_string().contains(&vault.key_id().to_string()));
        assert!(matches!(
            vault.open(b"a", b"short"),
            Err(VaultError::Malformed(_))
        ));
    }

    #[test]
    fn key_parsing_is_strict_and_silent() {
        let key = MasterKey::generate();
        let b64 = key.to_base64();
        let again = MasterKey::from_base64(&format!(" {}\n", b64.expose_secret()), "test").unwrap();
        assert_eq!(again.id(), key.id());
        let err = MasterKey::from_base64(&B64.encode([1u8; 16]), "MLC_MASTER_KEY").unwrap_err();
        assert!(err.to_string().contains("16 bytes"), "{err}");
        assert!(MasterKey::from_base64("not base64!!", "x").is_err());
        assert!(!format!("{key:?}").contains(b64.expose_secret()));
    }

    #[test]
    fn derived_keys_depend_on_key_and_label() {
        let key = MasterKey::generate();
        let again = MasterKey::from_base64(key.to_base64().expose_secret(), "test").unwrap();
        assert_eq!(key.derive("purpose a"), again.derive("purpose a"));
        assert_ne!(key.derive("purpose a"), key.derive("purpose b"));
        assert_ne!(
            key.derive("purpose a"),
            MasterKey::generate().derive("purpose a")
        );
        assert_ne!(key.derive("purpose a"), *key.key.expose_secret());
    }

    #[test]
    fn default_key_file_created_only_when_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let source = KeySource::resolve(None, "", dir.path());
        assert!(matches!(source.load(false), Err(VaultError::NoKey)));
        let created = source.load(true).unwrap();
        assert_eq!(source.load(false).unwrap().id(), created.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
