//! Authenticated loading of precompiled WebAssembly components.
//!
//! ml-connector compiles a plugin once, at upload, and keeps the compiled artifact (`Component::serialize`) in
//! its database so that every replica and every restart can load it in milliseconds instead of recompiling
//! (seconds and hundreds of MB for a JavaScript plugin). Loading a compiled artifact means mapping native code:
//! wasmtime's `Component::deserialize` is `unsafe` because it trusts the bytes completely. This crate makes that
//! trust explicit: an artifact is only ever deserialized after its HMAC-SHA256, computed by [`seal`] with a key
//! that never leaves the host process (it is derived from the master key, which is not in the database), has been
//! verified in constant time. Anyone who can write the database but does not hold the key cannot get native code
//! loaded. wasmtime's own compatibility check (version, target, engine settings) still runs on top and refuses
//! artifacts of another build.
//!
//! The MAC covers a caller-chosen context (the engine fingerprint and the plugin's content hash), so an
//! artifact cannot be replayed under another plugin's name either.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::Engine;
use wasmtime::component::Component;

type HmacSha256 = Hmac<Sha256>;

/// Length of a MAC tag in bytes.
pub const TAG_LEN: usize = 32;

/// The 32-byte key that authenticates artifacts. Never printed.
pub struct ArtifactKey([u8; 32]);

impl std::fmt::Debug for ArtifactKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ArtifactKey(..)")
    }
}

impl ArtifactKey {
    /// Wraps key material (derive it; do not reuse an encryption key directly).
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, context: &[u8], artifact: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(&(context.len() as u64).to_be_bytes());
        mac.update(context);
        mac.update(artifact);
        mac
    }
}

/// Why an artifact was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The tag does not match: the artifact was not written by a host holding this key (or was altered).
    #[error("the compiled artifact is not authentic (MAC mismatch); it will not be loaded")]
    NotAuthentic,
    /// Authentic, but wasmtime refuses it (another wasmtime version or engine configuration).
    #[error("the compiled artifact does not fit this engine: {0}")]
    Incompatible(String),
}

/// The MAC tag for `artifact` under `context`. Store it next to the artifact.
pub fn seal(key: &ArtifactKey, context: &[u8], artifact: &[u8]) -> [u8; TAG_LEN] {
    key.mac(context, artifact).finalize().into_bytes().into()
}

/// Verifies `tag` and only then deserializes `artifact` into a component for `engine`.
pub fn load(
    engine: &Engine,
    key: &ArtifactKey,
    context: &[u8],
    artifact: &[u8],
    tag: &[u8],
) -> Result<Component, LoadError> {
    key.mac(context, artifact)
        .verify_slice(tag)
        .map_err(|_| LoadError::NotAuthentic)?;
    // SAFETY: `Component::deserialize` requires bytes produced by `Component::serialize` /
    // `Engine::precompile_component` of a compatible wasmtime, not modified since. The HMAC just verified
    // (constant time) proves that a holder of `key` — only ml-connector's host process, which MACs exactly the
    // output of `Component::serialize` — produced these bytes for this `context`. wasmtime additionally checks
    // the artifact header against this engine's version and settings and returns an error on mismatch.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, artifact) };
    component.map_err(|e| LoadError::Incompatible(format!("{e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::new(wasmtime::Config::new().wasm_component_model(true)).unwrap()
    }

    // The smallest component: `(component)` in binary form.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    #[test]
    fn loads_only_what_was_sealed_with_the_key() {
        let engine = engine();
        let compiled = Component::new(&engine, EMPTY_COMPONENT)
            .unwrap()
            .serialize()
            .unwrap();
        let key = ArtifactKey::new([7; 32]);
        let tag = seal(&key, b"ctx", &compiled);
        assert!(load(&engine, &key, b"ctx", &compiled, &tag).is_ok());

        let other_key = ArtifactKey::new([8; 32]);
        assert!(matches!(
            load(&engine, &other_key, b"ctx", &compiled, &tag),
            Err(LoadError::NotAuthentic)
        ));
        assert!(matches!(
            load(&engine, &key, b"other", &compiled, &tag),
            Err(LoadError::NotAuthentic)
        ));
        let mut tampered = compiled.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(
            load(&engine, &key, b"ctx", &tampered, &tag),
            Err(LoadError::NotAuthentic)
        ));
        assert!(matches!(
            load(&engine, &key, b"ctx", &compiled, &tag[..31]),
            Err(LoadError::NotAuthentic)
        ));
    }

    #[test]
    fn authentic_but_foreign_bytes_are_refused_by_wasmtime() {
        let engine = engine();
        let key = ArtifactKey::new([1; 32]);
        let junk = b"not a compiled artifact".to_vec();
        let tag = seal(&key, b"ctx", &junk);
        assert!(matches!(
            load(&engine, &key, b"ctx", &junk, &tag),
            Err(LoadError::Incompatible(_))
        ));
    }
}
