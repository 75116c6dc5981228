"""leptonkit.crypto against its defining properties and published test vectors."""

from __future__ import annotations

import hashlib
import hmac as std_hmac
import random

import numpy as np
import pytest

from leptonkit import crypto
from leptonkit.errors import IntegrityError

RNG = random.Random(20261125)  # which bits get flipped: fixed so a failure can be replayed


@pytest.fixture(scope="module")
def key() -> bytes:
    return crypto.generate_key()


@pytest.fixture(scope="module")
def rsa_pair():
    return crypto.generate_rsa_keypair(2048)


# --- AES-GCM ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000, 2**20])
def test_round_trip(key, size):
    message = RNG.randbytes(size)
    assert crypto.decrypt(crypto.encrypt(message, key), key) == message


def test_round_trip_with_associated_data_and_bytes_like_inputs(key):
    token = crypto.encrypt(bytearray(b"dose 500 mg"), key, associated_data=memoryview(b"id-7"))
    assert crypto.decrypt(bytearray(token), bytearray(key), associated_data=b"id-7") == b"dose 500 mg"


def test_token_layout_is_nonce_ciphertext_tag(key):
    assert len(crypto.encrypt(b"x" * 100, key)) == 12 + 100 + 16


def test_known_answer_gcm_spec_test_case_14():
    # McGrew & Viega, "The Galois/Counter Mode of Operation", test case 14 (AES-256, zero IV).
    key = bytes(32)
    token = bytes(12) + bytes.fromhex("cea7403d4d606b6e074ec5d3baf39d18"
                                      "d0d1c8a799996bf0265b98b5d48ab919")
    assert crypto.decrypt(token, key) == bytes(16)


def test_every_single_bit_flip_is_caught(key):
    token = crypto.encrypt(b"patient 0042: HbA1c 6.1 %, metformin 500 mg", key,
                           associated_data=b"record-0042")
    n_bits = len(token) * 8
    positions = [RNG.randrange(n_bits) for _ in range(1000)]
    for position in positions:
        tampered = bytearray(token)
        tampered[position // 8] ^= 1 << (position % 8)
        with pytest.raises(IntegrityError):
            crypto.decrypt(tampered, key, associated_data=b"record-0042")
    # and every position at least once (the token is 568 bits, so this is exhaustive)
    for position in range(n_bits):
        tampered = bytearray(token)
        tampered[position // 8] ^= 1 << (position % 8)
        with pytest.raises(IntegrityError):
            crypto.decrypt(tampered, key, associated_data=b"record-0042")


def test_wrong_key_wrong_associated_data_and_truncation(key):
    token = crypto.encrypt(b"secret", key, associated_data=b"a")
    cases = [
        lambda: crypto.decrypt(token, crypto.generate_key(), associated_data=b"a"),
        lambda: crypto.decrypt(token, key, associated_data=b"b"),
        lambda: crypto.decrypt(token, key),                       # associated data dropped
        lambda: crypto.decrypt(token + b"\0", key, associated_data=b"a"),
    ] + [lambda n=n: crypto.decrypt(token[:n], key, associated_data=b"a") for n in range(len(token))]
    messages = set()
    for attempt in cases:
        with pytest.raises(IntegrityError) as info:
            attempt()
        messages.add(str(info.value))
    assert len(messages) == 1, "every failure must look the same"


def test_nonces_are_unique_and_tokens_differ(key):
    tokens = [crypto.encrypt(b"same message", key) for _ in range(20_000)]
    nonces = {t[:12] for t in tokens}
    assert len(nonces) == len(tokens)
    # Nonces come from the CSPRNG: each of the 96 bits is set about half the time. With 20,000
    # draws a fair bit's count has sd sqrt(20000)/2 ≈ 71; 6 sd over 96 bits fails by chance
    # with probability < 2e-7.
    bits = np.unpackbits(np.frombuffer(b"".join(nonces), np.uint8).reshape(-1, 12), axis=1)
    assert np.all(np.abs(bits.sum(axis=0).astype(np.int64) - 10_000) < 6 * 71)


def test_bad_inputs_name_the_parameter(key):
    with pytest.raises(TypeError, match="plaintext"):
        crypto.encrypt("text", key)
    with pytest.raises(TypeError, match="key"):
        crypto.encrypt(b"x", "k" * 32)
    with pytest.raises(TypeError, match="associated_data"):
        crypto.encrypt(b"x", key, associated_data="id")
    with pytest.raises(TypeError, match="token"):
        crypto.decrypt("token", key)
    for bad in (b"", b"k" * 15, b"k" * 31, b"k" * 33):
        with pytest.raises(ValueError, match=rf"16, 24 or 32 bytes.*got {len(bad)}"):
            crypto.encrypt(b"x", bad)
        with pytest.raises(ValueError, match="16, 24 or 32"):
            crypto.decrypt(b"\0" * 40, bad)


def test_generated_keys_are_256_bit_and_fresh():
    keys = {crypto.generate_key() for _ in range(100)}
    assert len(keys) == 100 and all(len(k) == 32 for k in keys)


# --- arrays -----------------------------------------------------------------------------------


@pytest.mark.parametrize("array", [
    np.arange(12, dtype=np.float32).reshape(3, 4),
    np.random.default_rng(0).normal(size=(2, 3, 5)),
    np.arange(10, dtype=np.int8),
    np.zeros((0, 3), dtype=np.float16),
    np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    np.arange(20.0)[::3],                                    # not contiguous
    np.array(3.5),                                           # zero-dimensional
])
def test_array_round_trip_keeps_dtype_shape_and_values(key, array):
    restored = crypto.decrypt_array(crypto.encrypt_array(array, key), key)
    assert restored.dtype == array.dtype and restored.shape == array.shape
    np.testing.assert_array_equal(restored, array)
    restored[...] = 0  # writable


def test_array_header_cannot_be_reinterpreted(key):
    token = crypto.encrypt_array(np.ones(4, dtype=np.float32), key)
    forged = token.replace(b"<f4", b"<i4")
    assert forged != token
    with pytest.raises(IntegrityError):
        crypto.decrypt_array(forged, key)
    with pytest.raises(IntegrityError):
        crypto.decrypt_array(token[:10], key)
    with pytest.raises(IntegrityError):
        crypto.decrypt_array(b"LKA1" + token[4:], crypto.generate_key())


def test_array_bad_inputs(key):
    with pytest.raises(TypeError, match="array"):
        crypto.encrypt_array([1, 2, 3], key)
    with pytest.raises(TypeError, match="dtype=object"):
        crypto.encrypt_array(np.array([object()]), key)


# --- envelopes --------------------------------------------------------------------------------


def test_seal_round_trip(rsa_pair):
    private, public = rsa_pair
    for message in (b"", b"x", RNG.randbytes(100_000)):
        assert crypto.unseal(crypto.seal(message, public), private) == message


def test_seal_tampering_is_caught_everywhere(rsa_pair):
    private, public = rsa_pair
    sealed = crypto.seal(b"a record for the university", public)
    for position in range(0, len(sealed) * 8, 7):          # header, wrapped key, nonce, body, tag
        tampered = bytearray(sealed)
        tampered[position // 8] ^= 1 << (position % 8)
        with pytest.raises(IntegrityError):
            crypto.unseal(tampered, private)
    for cut in (0, 3, 6, 100, len(sealed) - 1):
        with pytest.raises(IntegrityError):
            crypto.unseal(sealed[:cut], private)


def test_seal_wrapped_keys_cannot_be_swapped(rsa_pair):
    private, public = rsa_pair
    a, b = crypto.seal(b"message a", public), crypto.seal(b"message b", public)
    header = 6 + public.key_size // 8
    with pytest.raises(IntegrityError):
        crypto.unseal(a[:header] + b[header:], private)


def test_seal_for_someone_else_is_refused(rsa_pair):
    private, _ = rsa_pair
    _, other_public = crypto.generate_rsa_keypair(2048)
    with pytest.raises(IntegrityError):
        crypto.unseal(crypto.seal(b"x", other_public), private)


def test_rsa_bad_inputs(rsa_pair):
    private, public = rsa_pair
    with pytest.raises(ValueError, match=r"bits must be in \[2048, 16384\], got 1024"):
        crypto.generate_rsa_keypair(1024)
    with pytest.raises(TypeError, match="bits"):
        crypto.generate_rsa_keypair(3072.0)
    with pytest.raises(TypeError, match="public"):
        crypto.seal(b"x", private)
    with pytest.raises(TypeError, match="private"):
        crypto.unseal(b"x", public)
    with pytest.raises(TypeError, match="plaintext"):
        crypto.seal("text", public)


# --- hashes, MACs, signatures -----------------------------------------------------------------


def test_hashes_match_the_standard_library():
    for data in (b"", b"abc", RNG.randbytes(5000)):
        assert crypto.sha256(data) == hashlib.sha256(data).digest()
        assert crypto.hmac_sha256(b"k" * 32, data) == std_hmac.new(b"k" * 32, data, "sha256").digest()
    # FIPS 180-2 example: SHA-256("abc")
    assert crypto.sha256(b"abc").hex() == ("ba7816bf8f01cfea414140de5dae2223"
                                           "b00361a396177a9cb410ff61f20015ad")


def test_hmac_verification():
    tag = crypto.hmac_sha256(b"key", b"data")
    assert crypto.verify_hmac(b"key", b"data", tag)
    assert not crypto.verify_hmac(b"key", b"dato", tag)
    assert not crypto.verify_hmac(b"kez", b"data", tag)
    assert not crypto.verify_hmac(b"key", b"data", tag[:-1])
    with pytest.raises(ValueError, match="key"):
        crypto.hmac_sha256(b"", b"data")
    with pytest.raises(TypeError, match="data"):
        crypto.sha256("text")


def test_signatures_and_their_tampering():
    private, public = crypto.generate_signing_keypair()
    message = RNG.randbytes(1000)
    signature = crypto.sign(message, private)
    assert len(signature) == 64 and crypto.verify(message, signature, public)
    for position in range(0, 64 * 8, 5):
        bad = bytearray(signature)
        bad[position // 8] ^= 1 << (position % 8)
        assert not crypto.verify(message, bytes(bad), public)
    for position in range(0, len(message) * 8, 97):
        bad = bytearray(message)
        bad[position // 8] ^= 1 << (position % 8)
        assert not crypto.verify(bytes(bad), signature, public)
    _, other_public = crypto.generate_signing_keypair()
    assert not crypto.verify(message, signature, other_public)
    assert not crypto.verify(message, signature[:-1], public)
    with pytest.raises(TypeError, match="private"):
        crypto.sign(message, public)
    with pytest.raises(TypeError, match="public"):
        crypto.verify(message, signature, private)
    with pytest.raises(TypeError, match="message"):
        crypto.sign("text", private)


def test_rfc8032_test_vector_1():
    from cryptography.hazmat.primitives.asymmetric import ed25519
    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
    expected = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    assert crypto.sign(b"", private) == expected
    assert crypto.verify(b"", expected, private.public_key())


# --- passwords --------------------------------------------------------------------------------


def test_password_key_matches_scrypt_reference_and_salts_differ():
    key, salt = crypto.derive_key_from_password("hunter2", log2_n=10)
    assert len(key) == 32 and len(salt) == 16
    assert key == hashlib.scrypt(b"hunter2", salt=salt, n=1024, r=8, p=1, dklen=32)
    again, _ = crypto.derive_key_from_password("hunter2", salt=salt, log2_n=10)
    assert again == key
    other, other_salt = crypto.derive_key_from_password("hunter2", log2_n=10)
    assert other_salt != salt and other != key


def test_password_encryption_round_trip_and_refusals():
    token = crypto.encrypt_with_password(b"backup", "correct horse", log2_n=10)
    assert crypto.decrypt_with_password(token, "correct horse") == b"backup"
    assert crypto.decrypt_with_password(token, b"correct horse") == b"backup"
    with pytest.raises(IntegrityError):
        crypto.decrypt_with_password(token, "correct horsf")
    for position in (0, 4 * 8, 5 * 8 + 3, len(token) * 8 - 1):  # magic, cost, salt, tag
        tampered = bytearray(token)
        tampered[position // 8] ^= 1 << (position % 8)
        with pytest.raises(IntegrityError):
            crypto.decrypt_with_password(bytes(tampered), "correct horse")
    with pytest.raises(IntegrityError):
        crypto.decrypt_with_password(token[:10], "correct horse")


def test_password_bad_inputs():
    with pytest.raises(ValueError, match=r"log2_n must be in \[10, 20\], got 9"):
        crypto.derive_key_from_password("pw", log2_n=9)
    with pytest.raises(ValueError, match=r"log2_n must be in \[10, 20\], got 21"):
        crypto.derive_key_from_password("pw", log2_n=21)
    with pytest.raises(ValueError, match="password"):
        crypto.derive_key_from_password("", log2_n=10)
    with pytest.raises(ValueError, match="salt must be at least 16 bytes"):
        crypto.derive_key_from_password("pw", salt=b"short", log2_n=10)
    with pytest.raises(TypeError, match="password"):
        crypto.derive_key_from_password(12345, log2_n=10)


def test_kdf_cost_table_is_measured_then_linear():
    table = crypto.kdf_cost_table(measured_up_to=11, repeats=1)
    assert list(table["log2_n"]) == list(range(10, 21))
    assert table["measured"].tolist() == [True, True] + [False] * 9
    seconds = table["seconds"]
    assert np.all(seconds > 0)
    np.testing.assert_allclose(seconds[3:] / seconds[2:-1], 2.0)  # extrapolated: doubling per step


def test_expected_crack_seconds():
    assert crypto.expected_crack_seconds(1, 1.0) == 1.0
    assert crypto.expected_crack_seconds(56, 2.0**55) == 1.0
    np.testing.assert_allclose(crypto.expected_crack_seconds(np.array([10, 11]), 2.0), [256, 512])
    with pytest.raises(ValueError, match="guesses_per_second"):
        crypto.expected_crack_seconds(10, 0)
    with pytest.raises(ValueError, match="entropy_bits"):
        crypto.expected_crack_seconds(float("nan"), 1)
    with pytest.raises(ValueError, match="entropy_bits"):
        crypto.expected_crack_seconds(np.array([1.0, np.inf]), 1)
    with pytest.raises(TypeError, match="entropy_bits"):
        crypto.expected_crack_seconds("56", 1)


# --- the ECB lesson ---------------------------------------------------------------------------


def test_ecb_matches_fips_197_and_leaks_equal_blocks():
    key = bytes(range(32))
    plaintext = bytes.fromhex("00112233445566778899aabbccddeeff")
    ecb = crypto.ecb_encrypt_insecure(plaintext * 3, key)
    assert ecb[:16].hex() == "8ea2b7ca516745bfeafc49904b496089"  # FIPS 197, appendix C.3
    assert ecb[:16] == ecb[16:32] == ecb[32:48] and len(ecb) == 64  # + one padding block


def test_demo_image_shows_through_ecb_but_not_gcm():
    image = crypto.demo_image(128)
    assert image.dtype == np.uint8 and image.shape == (128, 128) and len(np.unique(image)) == 4
    key = crypto.generate_key()
    ecb = crypto.bytes_as_image(crypto.ecb_encrypt_insecure(image.tobytes(), key), image.shape)
    gcm = crypto.bytes_as_image(crypto.encrypt(image.tobytes(), key)[12:], image.shape)
    blocks = lambda img: {img.tobytes()[i:i + 16] for i in range(0, img.size, 16)}  # noqa: E731
    assert len(blocks(ecb)) == len(blocks(image)) < 60
    assert len(blocks(gcm)) == image.size // 16
    with pytest.raises(ValueError, match="at least 16384 bytes"):
        crypto.bytes_as_image(b"short", (128, 128))
    with pytest.raises(ValueError, match="size"):
        crypto.demo_image(8)


def test_keys_never_appear_in_reprs(rsa_pair):
    private, _ = rsa_pair
    signing, _ = crypto.generate_signing_keypair()
    from cryptography.hazmat.primitives import serialization
    raw = signing.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    assert raw.hex() not in repr(signing) and str(private.private_numbers().d) not in repr(private)
