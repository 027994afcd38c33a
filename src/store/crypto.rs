//! Sealing stored values: per-record keys, XChaCha20-Poly1305 with a fresh random nonce, and
//! the value's storage key as associated data (a sealed value cannot be moved to another key).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use super::StoreError;

pub const KEY_BYTES: usize = 32;
pub const NONCE_BYTES: usize = 24;

/// A key's number. Slot 0 is never handed out: it marks values stored in the clear.
pub type KeySlot = u64;
pub const PLAINTEXT_SLOT: KeySlot = 0;

pub fn new_key() -> Result<[u8; KEY_BYTES], StoreError> {
    let mut key = [0u8; KEY_BYTES];
    fill_random(&mut key)?;
    Ok(key)
}

/// Encrypts with a fresh random nonce; the output is nonce followed by ciphertext.
pub fn seal(key: &[u8; KEY_BYTES], associated: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; NONCE_BYTES];
    fill_random(&mut nonce)?;
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: associated,
            },
        )
        .map_err(|_| StoreError::Corrupt("encryption failed".to_string()))?;
    let mut sealed = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

pub fn open_sealed(key: &[u8; KEY_BYTES], associated: &[u8], sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
    if sealed.len() < NONCE_BYTES {
        return Err(StoreError::Corrupt("sealed value too short".to_string()));
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: associated,
            },
        )
        .map_err(|_| StoreError::Corrupt("a stored value failed authentication".to_string()))
}

pub(crate) fn fill_random(buffer: &mut [u8]) -> Result<(), StoreError> {
    getrandom::fill(buffer).map_err(|error| StoreError::Corrupt(format!("no randomness available: {error}")))
}
