"""Encryption, key agreement, hashing, signatures and password-based keys, on ``cryptography`` alone.

Nothing here is a home-made primitive: AES-GCM, RSA-OAEP, X25519, HKDF, SHA-256, HMAC, Ed25519
and scrypt come from pyca/cryptography; this module chooses safe settings, checks arguments at the door
and turns every way a token can be bad into one ``IntegrityError``. The insecure ECB demo that
and GCM-with-a-repeated-nonce demos that notebook 01 needs live at the bottom, under names
nobody calls by accident.
Neighbours: ``he`` (computing on ciphertexts), ``mpc`` (secret sharing), ``audit`` (hash chains).

Keys, nonces and salts come from the OS CSPRNG (``os.urandom``); no function here takes a seed.

Every token format is authenticated before any of it is interpreted: a token that is tampered,
truncated, foreign or made under another key raises ``IntegrityError`` with one message, however
it is broken. Only the caller's own arguments (a key of the wrong type or size, a cost out of
range) raise ``TypeError``/``ValueError``, each naming the parameter.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import time
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ._checks import as_bytes, check_int, check_real
from .errors import IntegrityError

__all__ = [
    "IntegrityError",
    "agree_key",
    "bytes_as_image",
    "canonical_array_bytes",
    "decrypt",
    "decrypt_array",
    "decrypt_with_password",
    "demo_image",
    "derive_key_from_password",
    "ecb_encrypt_insecure",
    "encrypt",
    "encrypt_array",
    "encrypt_with_nonce_insecure",
    "encrypt_with_password",
    "expected_crack_seconds",
    "generate_agreement_keypair",
    "generate_key",
    "generate_rsa_keypair",
    "generate_signing_keypair",
    "hmac_sha256",
    "kdf_cost_table",
    "kdf_seconds",
    "seal",
    "sha256",
    "sign",
    "sign_array",
    "unseal",
    "verify",
    "verify_array",
    "verify_hmac",
]

NONCE_BYTES = 12  # 96-bit nonces, the size NIST SP 800-38D recommends for GCM
TAG_BYTES = 16
AES_KEY_BYTES = (16, 24, 32)
MIN_RSA_BITS, MAX_RSA_BITS = 2048, 16384
SCRYPT_LOG2_N_RANGE = (10, 20)  # 2**20 * 1 KiB = 1 GiB of memory at the top
SCRYPT_R, SCRYPT_P = 8, 1
DEFAULT_SCRYPT_LOG2_N = 17  # OWASP Password Storage Cheat Sheet: N = 2**17, r = 8, p = 1
MIN_TOKEN_LOG2_N = DEFAULT_SCRYPT_LOG2_N  # encrypt_with_password refuses a cheaper cost
SALT_BYTES = 16

_TAMPERED = "authentication failed: wrong key, wrong associated data, or tampered/truncated data"


# --- AES-GCM ----------------------------------------------------------------------------------


def generate_key(bits: int = 256) -> bytes:
    """Return a fresh random AES key of ``bits`` bits (128, 192 or 256) from the OS CSPRNG.

    AES takes all three key sizes (FIPS 197), and so does GCM (NIST SP 800-38D, section 5.1);
    the kit's default is 256.

    Raises
    ------
    TypeError, ValueError
        If ``bits`` is not one of the ints 128, 192, 256.
    """
    bits = check_int(bits, "bits", low=128, high=256)
    if bits not in (128, 192, 256):
        raise ValueError(f"bits must be 128, 192 or 256 (AES key sizes), got {bits}")
    return AESGCM.generate_key(bit_length=bits)


def encrypt(plaintext: bytes, key: bytes, *, associated_data: bytes | None = None) -> bytes:
    """Encrypt and authenticate ``plaintext`` with AES-GCM; return ``nonce || ciphertext || tag``.

    A fresh random 96-bit nonce is drawn for every call, so encrypting the same message twice
    gives different tokens. ``associated_data`` is authenticated but not encrypted (a record id,
    a header): decryption fails unless the same bytes are given again.

    Raises
    ------
    TypeError
        If an argument is not bytes-like (``str`` included).
    ValueError
        If ``key`` is not 16, 24 or 32 bytes long.

    Example
    -------
    >>> key = generate_key()
    >>> decrypt(encrypt(b"blood type: O-", key), key)
    b'blood type: O-'
    """
    data = as_bytes(plaintext, "plaintext")
    aad = _optional_bytes(associated_data, "associated_data")
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _aesgcm(key).encrypt(nonce, data, aad)


def decrypt(token: bytes, key: bytes, *, associated_data: bytes | None = None) -> bytes:
    """Verify and decrypt a token made by :func:`encrypt`.

    Raises
    ------
    IntegrityError
        For every way the token can be bad: wrong key, wrong associated data, any flipped bit,
        truncation. One type and one message, so the error reveals nothing.
    TypeError, ValueError
        For arguments of the wrong type, or a key of the wrong length.
    """
    data = memoryview(as_bytes(token, "token"))
    aad = _optional_bytes(associated_data, "associated_data")
    aead = _aesgcm(key)
    if len(data) < NONCE_BYTES + TAG_BYTES:
        raise IntegrityError(_TAMPERED)
    try:
        return aead.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], aad)
    except InvalidTag:
        raise IntegrityError(_TAMPERED) from None


def _aesgcm(key: Any) -> AESGCM:
    key = as_bytes(key, "key")
    if len(key) not in AES_KEY_BYTES:
        raise ValueError(f"key must be 16, 24 or 32 bytes (AES-128/192/256), got {len(key)} bytes")
    return AESGCM(bytes(key))


def _optional_bytes(value: Any, name: str) -> bytes | memoryview | None:
    return None if value is None else as_bytes(value, name)


# --- numpy arrays (model parameters) ---------------------------------------------------------

_ARRAY_MAGIC = b"LKA1"
_ARRAY_HEADER_MAX = 4096   # bytes of JSON header; 64 dimensions of 20 digits need about 1400
_ARRAY_MAX_DIMS = 64       # numpy's own limit
_ARRAY_KINDS = "biufcmMSU"  # bool, ints, floats, complex, timedelta/datetime, fixed-size strings
_ARRAY_DTYPE = re.compile(r"[<>|=][biufcmMSU][0-9]{1,6}(\[[0-9]{0,6}[a-zA-Z]{1,3}\])?")


def encrypt_array(array: np.ndarray, key: bytes, *, associated_data: bytes | None = None) -> bytes:
    """Encrypt a numpy array with AES-GCM, keeping its dtype and shape.

    Token layout: ``b"LKA1" || header length (4 bytes) || JSON header {dtype, shape} ||
    AES-GCM token``; the magic, length and header are authenticated as associated data (with
    ``associated_data`` after them), so nobody can reinterpret the bytes (say, as float16)
    without the tag failing, and :func:`decrypt_array` reads the header only after the tag passed.

    Raises
    ------
    TypeError
        If ``array`` is not a numpy array of a bool, integer, float, complex, datetime,
        timedelta or fixed-size string dtype (object, structured and void dtypes are refused:
        their bytes alone do not carry them), or another argument is not bytes-like.
    ValueError
        If ``key`` is not 16, 24 or 32 bytes long.
    """
    dtype = _array_dtype(array)
    aad = _optional_bytes(associated_data, "associated_data")
    _aesgcm(key)  # check the key before the copy below
    header = json.dumps({"dtype": dtype.str, "shape": list(array.shape)}).encode()
    prefix = _ARRAY_MAGIC + struct.pack(">I", len(header)) + header
    body = encrypt(np.ascontiguousarray(array).tobytes(), key,
                   associated_data=prefix + bytes(aad or b""))
    return prefix + body


def decrypt_array(token: bytes, key: bytes, *, associated_data: bytes | None = None) -> np.ndarray:
    """Decrypt a token made by :func:`encrypt_array`; return a writable array of the same dtype and shape.

    The tag is checked first, over the header too; only then is the header parsed.

    Raises
    ------
    IntegrityError
        For every way the token can be bad (one type and one message): wrong key or associated
        data, any changed or missing byte, a header longer than 4096 bytes.
    TypeError, ValueError
        For arguments of the wrong type, or a key of the wrong length.
    """
    data = bytes(as_bytes(token, "token"))
    aad = bytes(_optional_bytes(associated_data, "associated_data") or b"")
    _aesgcm(key)
    if len(data) < 8 or data[:4] != _ARRAY_MAGIC:
        raise IntegrityError(_TAMPERED)
    (n,) = struct.unpack(">I", data[4:8])
    if n > _ARRAY_HEADER_MAX or len(data) < 8 + n:
        raise IntegrityError(_TAMPERED)
    prefix = data[: 8 + n]
    raw = decrypt(data[len(prefix):], key, associated_data=prefix + aad)  # authenticates prefix
    try:   # authentic, so made by encrypt_array; checked all the same, in case the key leaked
        dtype, shape = _array_header(prefix[8:])
        if math.prod(shape) * dtype.itemsize != len(raw):
            raise ValueError
        return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)
    except (ValueError, TypeError, KeyError, RecursionError):
        raise IntegrityError(_TAMPERED) from None


def _array_dtype(array: Any) -> np.dtype:
    """``array``'s dtype if it is a numpy array whose bytes, dtype and shape say all it holds."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"array must be a numpy.ndarray, got {type(array).__name__}")
    dtype = array.dtype
    if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None or not _ARRAY_DTYPE.fullmatch(dtype.str):
        raise TypeError("array must have a bool, numeric, datetime or fixed-size string dtype "
                        f"(object, structured and void dtypes are refused), got dtype={dtype}")
    return dtype


def _array_header(header: bytes) -> tuple[np.dtype, tuple[int, ...]]:
    """Parse an authenticated array header strictly; raise ValueError for anything unexpected."""
    fields = json.loads(header)
    if not isinstance(fields, dict) or set(fields) != {"dtype", "shape"}:
        raise ValueError
    dtype_str, shape = fields["dtype"], fields["shape"]
    if not isinstance(dtype_str, str) or not _ARRAY_DTYPE.fullmatch(dtype_str):
        raise ValueError
    if not isinstance(shape, list) or len(shape) > _ARRAY_MAX_DIMS:
        raise ValueError
    if not all(type(s) is int and 0 <= s < 2**63 for s in shape):
        raise ValueError
    dtype = np.dtype(dtype_str)
    if dtype.kind not in _ARRAY_KINDS or dtype.str != dtype_str:
        raise ValueError
    return dtype, tuple(shape)


# --- RSA-OAEP hybrid envelopes -------------------------------------------------------------

_SEAL_MAGIC = b"LKS1"
_OAEP = asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                          label=None)


def generate_rsa_keypair(bits: int = 3072) -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    """Return a fresh RSA ``(private, public)`` key pair (public exponent 65537).

    3072 bits is NIST's level for protection beyond 2030 (SP 800-57); fewer than 2048 is refused.
    """
    bits = check_int(bits, "bits", low=MIN_RSA_BITS, high=MAX_RSA_BITS)
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return private, private.public_key()


def _rsa_key(key: Any, name: str, kind: type, what: str) -> Any:
    """``key`` if it is an RSA key of ``kind`` with 2048 to 16384 bits; else TypeError/ValueError."""
    if not isinstance(key, kind):
        raise TypeError(f"{name} must be an RSA {what} key, got {type(key).__name__}")
    if not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
        raise ValueError(f"{name} must be an RSA key of {MIN_RSA_BITS} to {MAX_RSA_BITS} bits, "
                         f"got a {key.key_size}-bit key")
    return key


def seal(plaintext: bytes, public: rsa.RSAPublicKey) -> bytes:
    """Encrypt for the holder of ``public``'s private key: a hybrid envelope.

    A fresh AES-256 data key encrypts the message with AES-GCM; RSA-OAEP (SHA-256) wraps the
    data key. The wrapped key is authenticated as associated data, so swapping it is caught.
    RSA alone can encrypt only a few hundred bytes; this is how OpenPGP (RFC 4880) and CMS
    (RFC 5652) use it. (TLS 1.3 has no RSA key transport: its keys come from an ephemeral
    (EC)DHE exchange, RFC 8446 — see :func:`agree_key`.)

    What it does not defend: anyone can seal to ``public``, so an envelope says nothing about its
    sender (sign it, :func:`sign`, to prove that); and ``public`` must itself be authenticated —
    seal to a key an attacker substituted and the attacker reads the message.
    Layout: ``b"LKS1" || wrapped-key length (2 bytes) || wrapped key || AES-GCM token``.

    Raises
    ------
    TypeError
        If ``public`` is not an RSA public key, or ``plaintext`` is not bytes-like.
    ValueError
        If ``public`` has fewer than 2048 (or more than 16384) bits, wherever it was made.
    """
    public = _rsa_key(public, "public", rsa.RSAPublicKey, "public")
    data = as_bytes(plaintext, "plaintext")
    data_key = generate_key()
    wrapped = public.encrypt(data_key, _OAEP)
    header = _SEAL_MAGIC + struct.pack(">H", len(wrapped)) + wrapped
    return header + encrypt(data, data_key, associated_data=header)


def unseal(sealed: bytes, private: rsa.RSAPrivateKey) -> bytes:
    """Open an envelope made by :func:`seal`.

    Raises
    ------
    IntegrityError
        For every way the envelope can be bad — a wrapped key that does not decrypt, or
        decrypts to anything but a 32-byte data key, a failed tag, truncation — with one message.
    TypeError, ValueError
        If ``private`` is not an RSA private key of 2048 to 16384 bits, or ``sealed`` is not
        bytes-like.
    """
    private = _rsa_key(private, "private", rsa.RSAPrivateKey, "private")
    data = bytes(as_bytes(sealed, "sealed"))
    wrapped_bytes = private.key_size // 8 + (private.key_size % 8 > 0)
    if len(data) < 6 or data[:4] != _SEAL_MAGIC or struct.unpack(">H", data[4:6])[0] != wrapped_bytes:
        raise IntegrityError(_TAMPERED)
    header = data[: 6 + wrapped_bytes]
    try:
        data_key = private.decrypt(header[6:], _OAEP)  # ValueError when the wrapped key is bad
    except ValueError:
        raise IntegrityError(_TAMPERED) from None
    if len(data_key) != 32:   # seal wraps only AES-256 keys: anything else is forged
        raise IntegrityError(_TAMPERED)
    return decrypt(data[len(header):], data_key, associated_data=header)


# --- hashes, MACs, signatures --------------------------------------------------------------


def sha256(data: bytes) -> bytes:
    """Return the 32-byte SHA-256 digest of ``data``."""
    h = hashes.Hash(hashes.SHA256())
    h.update(as_bytes(data, "data"))
    return h.finalize()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """Return the 32-byte HMAC-SHA256 tag of ``data`` under ``key`` (RFC 2104)."""
    key = as_bytes(key, "key")
    if len(key) == 0:
        raise ValueError("key must be at least 1 byte (32 random bytes recommended), got 0 bytes")
    h = hmac.HMAC(bytes(key), hashes.SHA256())
    h.update(as_bytes(data, "data"))
    return h.finalize()


def verify_hmac(key: bytes, data: bytes, tag: bytes) -> bool:
    """Return whether ``tag`` is the HMAC-SHA256 of ``data``, compared in constant time."""
    key, tag = as_bytes(key, "key"), as_bytes(tag, "tag")
    if len(key) == 0:
        raise ValueError("key must be at least 1 byte (32 random bytes recommended), got 0 bytes")
    h = hmac.HMAC(bytes(key), hashes.SHA256())
    h.update(as_bytes(data, "data"))
    try:
        h.verify(bytes(tag))
    except InvalidSignature:
        return False
    return True


def generate_signing_keypair() -> tuple[ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey]:
    """Return a fresh Ed25519 ``(private, public)`` signing key pair (RFC 8032)."""
    private = ed25519.Ed25519PrivateKey.generate()
    return private, private.public_key()


def sign(message: bytes, private: ed25519.Ed25519PrivateKey) -> bytes:
    """Return the 64-byte Ed25519 signature of ``message``."""
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise TypeError(f"private must be an Ed25519 private key, got {type(private).__name__}")
    return private.sign(bytes(as_bytes(message, "message")))


def verify(message: bytes, signature: bytes, public: ed25519.Ed25519PublicKey) -> bool:
    """Return whether ``signature`` is a valid Ed25519 signature of ``message`` under ``public``."""
    if not isinstance(public, ed25519.Ed25519PublicKey):
        raise TypeError(f"public must be an Ed25519 public key, got {type(public).__name__}")
    try:
        public.verify(bytes(as_bytes(signature, "signature")), bytes(as_bytes(message, "message")))
    except InvalidSignature:
        return False
    return True


_SIGNED_ARRAY_CONTEXT = b"leptonkit signed array v1\x00"


def canonical_array_bytes(array: np.ndarray) -> bytes:
    """The one byte string that stands for ``array``: what :func:`sign_array` signs.

    Layout: ``b"leptonkit signed array v1\\x00" || header length (4 bytes, big-endian) ||
    JSON header {"dtype", "shape"} (sorted keys, no spaces) || the values in C order``, with
    multi-byte values little-endian whatever the array's byte order. ``array.tobytes()`` alone
    drops the dtype and the shape: the same bytes read as float16, or as a (64, 10) matrix
    instead of (10, 64), are another model. Here they are part of what is signed, and the
    context string keeps a signed array from passing for any other signed message.

    Raises
    ------
    TypeError
        If ``array`` is not a numpy array of a bool, numeric, datetime or fixed-size string dtype.
    """
    dtype = _array_dtype(array)
    if dtype.byteorder not in ("|", "<"):   # one encoding per value: little-endian
        dtype = dtype.newbyteorder("<")
    header = json.dumps({"dtype": dtype.str, "shape": list(array.shape)}, sort_keys=True,
                        separators=(",", ":")).encode()
    values = np.ascontiguousarray(array, dtype=dtype).tobytes()
    return _SIGNED_ARRAY_CONTEXT + struct.pack(">I", len(header)) + header + values


def sign_array(array: np.ndarray, private: ed25519.Ed25519PrivateKey) -> bytes:
    """Return the Ed25519 signature of ``array``'s values, dtype and shape (:func:`canonical_array_bytes`).

    A verifier who gets the same values with another dtype or shape sees the signature fail.

    Example
    -------
    >>> private, public = generate_signing_keypair()
    >>> weights = np.arange(6, dtype=np.float32).reshape(2, 3)
    >>> signature = sign_array(weights, private)
    >>> verify_array(weights, signature, public), verify_array(weights.reshape(3, 2), signature, public)
    (True, False)
    """
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise TypeError(f"private must be an Ed25519 private key, got {type(private).__name__}")
    return private.sign(canonical_array_bytes(array))


def verify_array(array: np.ndarray, signature: bytes, public: ed25519.Ed25519PublicKey) -> bool:
    """Return whether ``signature`` is :func:`sign_array`'s signature of ``array`` (values, dtype, shape)."""
    if not isinstance(public, ed25519.Ed25519PublicKey):
        raise TypeError(f"public must be an Ed25519 public key, got {type(public).__name__}")
    message = canonical_array_bytes(array)
    try:
        public.verify(bytes(as_bytes(signature, "signature")), message)
    except InvalidSignature:
        return False
    return True


# --- key agreement (X25519, RFC 7748; HKDF, RFC 5869) --------------------------------------

AGREED_KEY_BYTES = 32
_MAX_INFO_BYTES = 1024


def generate_agreement_keypair() -> tuple[x25519.X25519PrivateKey, x25519.X25519PublicKey]:
    """Return a fresh X25519 ``(private, public)`` key-agreement pair (RFC 7748) from the OS CSPRNG."""
    private = x25519.X25519PrivateKey.generate()
    return private, private.public_key()


def agree_key(private: x25519.X25519PrivateKey, peer_public: x25519.X25519PublicKey, *,
              info: bytes, salt: bytes | None = None) -> bytes:
    """The 32-byte AES-256 key two parties compute, each from its own private key and the other's public.

    X25519 (RFC 7748, section 6.1) gives both sides the same 32-byte shared secret; those bytes
    are a curve point's coordinate, not a uniformly random key, so HKDF-SHA256 (RFC 5869)
    extracts a key from them (with ``salt``, if any) and binds it to ``info`` — what the key is
    for, e.g. ``b"St. Lumen -> university, lab results, v1"``: another ``info`` gives an
    unrelated key. Both sides must pass the same ``info`` and ``salt``.

    What this does not defend: the public keys are not authenticated. Someone in the middle who
    swaps in a public key of their own agrees one key with each side and reads everything.
    Authenticate the peer's public key first — a signature by a key you already trust, a
    certificate, a fingerprint compared in person; TLS 1.3 signs the handshake transcript with
    the certificate's key (RFC 8446, section 4.4.3).

    Raises
    ------
    TypeError
        If a key is not an X25519 key of the right kind, or ``info``/``salt`` is not bytes-like.
    ValueError
        If ``info`` is empty or over 1024 bytes, or the shared secret is all zeros (a peer
        public key of small order, which RFC 7748 section 6.1 says to refuse).

    Example
    -------
    >>> hospital, hospital_public = generate_agreement_keypair()
    >>> university, university_public = generate_agreement_keypair()
    >>> mine = agree_key(hospital, university_public, info=b"demo")
    >>> mine == agree_key(university, hospital_public, info=b"demo")
    True
    """
    if not isinstance(private, x25519.X25519PrivateKey):
        raise TypeError(f"private must be an X25519 private key, got {type(private).__name__}")
    if not isinstance(peer_public, x25519.X25519PublicKey):
        raise TypeError(f"peer_public must be an X25519 public key, got {type(peer_public).__name__}")
    info = bytes(as_bytes(info, "info"))
    if not 1 <= len(info) <= _MAX_INFO_BYTES:
        raise ValueError(f"info must be 1 to {_MAX_INFO_BYTES} bytes saying what the key is for, "
                         f"got {len(info)} bytes")
    salt = None if salt is None else bytes(as_bytes(salt, "salt"))
    try:
        shared = private.exchange(peer_public)
    except ValueError:   # OpenSSL refuses an all-zero result
        shared = bytes(32)
    if shared == bytes(32):
        raise ValueError("peer_public is a small-order point: the shared secret is all zeros "
                         "(RFC 7748, section 6.1); refuse this peer")
    return HKDF(algorithm=hashes.SHA256(), length=AGREED_KEY_BYTES, salt=salt, info=info).derive(shared)


# --- keys from passwords (scrypt, RFC 7914) ------------------------------------------------

_PASSWORD_MAGIC = b"LKP1"


def derive_key_from_password(password: str | bytes, *, salt: bytes | None = None,
                             log2_n: int = DEFAULT_SCRYPT_LOG2_N) -> tuple[bytes, bytes]:
    """Derive a 256-bit key from a password with scrypt; return ``(key, salt)``.

    With ``salt=None`` a fresh random 16-byte salt is drawn; store it beside the ciphertext and
    pass it back to derive the same key. ``log2_n`` is scrypt's cost: each step doubles both
    the time and the memory (``128 * r * 2**log2_n`` bytes) of every guess an attacker makes.

    Raises
    ------
    TypeError
        If ``password`` is neither str nor bytes-like, or ``salt`` is not bytes-like.
    ValueError
        If ``log2_n`` is outside [10, 20], the password is empty (or a str that is not valid
        Unicode), or the salt is under 16 bytes.
    """
    pw = _password_bytes(password)
    log2_n = check_int(log2_n, "log2_n", low=SCRYPT_LOG2_N_RANGE[0], high=SCRYPT_LOG2_N_RANGE[1])
    if salt is None:
        salt = os.urandom(SALT_BYTES)
    salt = bytes(as_bytes(salt, "salt"))
    if len(salt) < SALT_BYTES:
        raise ValueError(f"salt must be at least {SALT_BYTES} bytes, got {len(salt)} bytes")
    kdf = Scrypt(salt=salt, length=32, n=2**log2_n, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(bytes(pw)), salt


def _password_bytes(password: Any) -> bytes | memoryview:
    if isinstance(password, str):
        try:
            pw = password.encode("utf-8")
        except UnicodeEncodeError:   # a lone surrogate; the message never shows the password
            raise ValueError("password must be valid Unicode (it has an unpaired surrogate)") from None
    else:
        try:
            pw = as_bytes(password, "password")
        except TypeError:
            raise TypeError(f"password must be str or bytes-like, got {type(password).__name__}") from None
    if len(pw) == 0:
        raise ValueError("password must not be empty")
    return pw


def encrypt_with_password(plaintext: bytes, password: str | bytes, *,
                          log2_n: int = DEFAULT_SCRYPT_LOG2_N) -> bytes:
    """Encrypt with a key derived from ``password``; the salt and cost travel in the token.

    Token layout: ``b"LKP1" || log2_n || salt || AES-GCM token``, the header authenticated
    (scrypt's r = 8 and p = 1 are fixed, not stored). ``log2_n`` must be in [17, 20]: 2**17 is
    OWASP's minimum for r = 8, p = 1, so a token never gets a cheaper key than the default
    (:func:`derive_key_from_password` still goes down to 10, for measuring). A token made with
    ``log2_n`` above ``max_log2_n`` of :func:`decrypt_with_password` needs that raised to open.

    Raises
    ------
    TypeError
        If ``plaintext`` or ``password`` has the wrong type.
    ValueError
        If ``log2_n`` is outside [17, 20], or the password is empty.
    """
    data = as_bytes(plaintext, "plaintext")
    log2_n = check_int(log2_n, "log2_n", low=MIN_TOKEN_LOG2_N, high=SCRYPT_LOG2_N_RANGE[1])
    key, salt = derive_key_from_password(password, log2_n=log2_n)
    header = _PASSWORD_MAGIC + bytes([log2_n]) + salt
    return header + encrypt(data, key, associated_data=header)


def decrypt_with_password(token: bytes, password: str | bytes, *,
                          max_log2_n: int = SCRYPT_LOG2_N_RANGE[1]) -> bytes:
    """Decrypt a token made by :func:`encrypt_with_password`.

    The cost stored in the token decides how much work (and memory: ``2**log2_n`` KiB) one
    attempt takes, so it is capped before scrypt runs: a token asking for more than
    ``2**max_log2_n`` — or less than ``2**10`` — is refused as tampered or foreign. A service
    that opens tokens from strangers should lower ``max_log2_n`` to the cost it issues (17 by
    default), since 20 means 1 GiB per attempt.

    Raises
    ------
    IntegrityError
        For a wrong password and every way the token can be bad (one type, one message),
        including a cost outside [10, max_log2_n] — then without running scrypt.
    TypeError, ValueError
        If ``token`` or ``password`` has the wrong type, the password is empty, or
        ``max_log2_n`` is not an int in [10, 20].
    """
    data = bytes(as_bytes(token, "token"))
    _password_bytes(password)
    lo, hi = SCRYPT_LOG2_N_RANGE
    max_log2_n = check_int(max_log2_n, "max_log2_n", low=lo, high=hi)
    header = data[: 5 + SALT_BYTES]
    if len(header) < 5 + SALT_BYTES or header[:4] != _PASSWORD_MAGIC or not lo <= header[4] <= max_log2_n:
        raise IntegrityError(_TAMPERED)
    key, _ = derive_key_from_password(password, salt=header[5:], log2_n=header[4])
    return decrypt(data[len(header):], key, associated_data=header)


def kdf_seconds(log2_n: int, *, repeats: int = 3) -> float:
    """Measure the median wall time of one scrypt derivation at cost ``2**log2_n`` on this machine.

    This is what every guess costs an attacker who runs the same code on the same hardware.
    """
    repeats = check_int(repeats, "repeats", low=1, high=100)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        derive_key_from_password(b"correct horse battery staple", log2_n=log2_n)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def kdf_cost_table(*, measured_up_to: int = 14, repeats: int = 3) -> dict[str, np.ndarray]:
    """Seconds per scrypt guess on this machine for every ``log2_n`` in [10, 20].

    Costs up to ``measured_up_to`` are measured with :func:`kdf_seconds`; higher ones are
    extrapolated, since scrypt's work grows linearly in N (RFC 7914, section 2): the time per
    unit of N is the median over the measured points. Returns arrays ``log2_n``, ``seconds``
    and ``measured`` (a boolean mask), so a plot can show which points are which.
    """
    lo, hi = SCRYPT_LOG2_N_RANGE
    measured_up_to = check_int(measured_up_to, "measured_up_to", low=lo, high=hi)
    log2_n = np.arange(lo, hi + 1)
    measured = log2_n <= measured_up_to
    seconds = np.array([kdf_seconds(int(n), repeats=repeats) if m else np.nan
                        for n, m in zip(log2_n, measured, strict=True)])
    per_unit = np.median(seconds[measured] / 2.0 ** log2_n[measured])
    seconds[~measured] = per_unit * 2.0 ** log2_n[~measured]
    return {"log2_n": log2_n, "seconds": seconds, "measured": measured}


def expected_crack_seconds(entropy_bits: float | np.ndarray,
                           guesses_per_second: float | np.ndarray) -> float | np.ndarray:
    """Expected time to guess a secret with ``entropy_bits`` of entropy: half the space on average.

    ``2**(entropy_bits - 1) / guesses_per_second``, element-wise for arrays. A random
    10-character lowercase password has about 47 bits; a random AES-256 key has 256.
    """
    bits = _finite_array(entropy_bits, "entropy_bits", low=0.0, high=1024.0)
    rate = _finite_array(guesses_per_second, "guesses_per_second", low=0.0, strict=True)
    result = np.exp2(np.maximum(bits - 1.0, 0.0)) / rate
    return float(result) if result.ndim == 0 else result


def _finite_array(values: Any, name: str, *, low: float, high: float = np.inf,
                  strict: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(values)
    except ValueError:   # ragged nesting: refused as "not a real number" below
        arr = np.asarray(None)
    if arr.ndim == 0:
        try:
            return np.asarray(check_real(values, name, low=low, high=None if high == np.inf else high,
                                         low_open=strict))
        except OverflowError:   # an int too large for a float
            raise ValueError(f"{name} must be finite and at most {high:g}, got an int too large "
                             "for a float") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real number or an array of real numbers")
    arr = arr.astype(float)
    bad = ~np.isfinite(arr) | (arr <= low if strict else arr < low) | (arr > high)
    if bad.any():
        bound = f"({low:g}, {high:g}]" if strict else f"[{low:g}, {high:g}]"
        raise ValueError(f"{name} must be finite and in {bound}, got {arr[bad][0]:g}")
    return arr


# --- the ECB and nonce-reuse lessons (insecure on purpose) ---------------------------------


def ecb_encrypt_insecure(data: bytes, key: bytes) -> bytes:
    """INSECURE, for the lesson only: AES in ECB mode, which encrypts equal blocks equally.

    Every 16-byte block is encrypted on its own with the same key, so repeated plaintext blocks
    give repeated ciphertext blocks and the shape of the data shows through (notebook 01 draws
    it). Never use ECB for real data; use :func:`encrypt`. PKCS#7 padding is applied.
    """
    data = as_bytes(data, "data")
    key = as_bytes(key, "key")
    if len(key) not in AES_KEY_BYTES:
        raise ValueError(f"key must be 16, 24 or 32 bytes (AES-128/192/256), got {len(key)} bytes")
    padder = padding.PKCS7(128).padder()
    padded = padder.update(bytes(data)) + padder.finalize()
    encryptor = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def encrypt_with_nonce_insecure(plaintext: bytes, key: bytes, nonce: bytes, *,
                                associated_data: bytes | None = None) -> bytes:
    """INSECURE, for the lesson only: AES-GCM under a nonce the caller chooses — and so can repeat.

    Returns ``nonce || ciphertext || tag``, which :func:`decrypt` opens. GCM encrypts by XOR
    with a CTR keystream that depends only on the key and the nonce (NIST SP 800-38D, section
    7.1), so two messages under one key and one nonce give away the XOR of their plaintexts;
    their two tags also give an attacker the authentication key H, and with it forgeries
    (Joux 2006). Notebook 01 shows the first. Use :func:`encrypt`, which draws a fresh random
    nonce for every message.

    Raises
    ------
    TypeError
        If an argument is not bytes-like.
    ValueError
        If ``key`` is not 16, 24 or 32 bytes, or ``nonce`` is not 12 bytes.
    """
    data = as_bytes(plaintext, "plaintext")
    aad = _optional_bytes(associated_data, "associated_data")
    aead = _aesgcm(key)
    nonce = bytes(as_bytes(nonce, "nonce"))
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes (96 bits), got {len(nonce)} bytes")
    return nonce + aead.encrypt(nonce, data, aad)


def demo_image(size: int = 128) -> np.ndarray:
    """Draw a grey padlock on a light background: a ``(size, size)`` uint8 image for the ECB lesson.

    Large flat regions are what ECB betrays: each row of 16 equal pixels is one AES block.
    """
    size = check_int(size, "size", low=32, high=1024)
    yy, xx = np.mgrid[0:size, 0:size] / size
    img = np.full((size, size), 235, dtype=np.uint8)
    ring = np.hypot(xx - 0.5, yy - 0.42)
    img[(ring > 0.17) & (ring < 0.27) & (yy < 0.45)] = 60  # shackle
    body = (xx > 0.2) & (xx < 0.8) & (yy > 0.45) & (yy < 0.9)
    img[body] = 120
    keyhole = (np.hypot(xx - 0.5, yy - 0.6) < 0.06) | ((abs(xx - 0.5) < 0.025) & (yy > 0.6) & (yy < 0.75))
    img[keyhole] = 20
    return img


def bytes_as_image(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    """View the first ``rows * cols`` bytes of ``data`` as a uint8 image, to look at ciphertext."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"shape must be a (rows, cols) pair of ints, got {type(shape).__name__}")
    rows, cols = (check_int(s, "shape", low=1, high=2**31) for s in shape)
    data = bytes(as_bytes(data, "data"))
    if len(data) < rows * cols:
        raise ValueError(f"data must hold at least {rows * cols} bytes for shape {shape}, got {len(data)}")
    return np.frombuffer(data[: rows * cols], dtype=np.uint8).reshape(rows, cols)
