"""leptonkit.crypto against its defining properties and published test vectors."""

from __future__ import annotations

import hashlib
import hmac as std_hmac
import json
import random
import struct
import time

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from reliability.mutations import mutations

from leptonkit import crypto
from leptonkit.errors import IntegrityError

RNG = random.Random(20261125)  # which bits get flipped: fixed so a failure can be replayed
TAMPERED = "authentication failed: wrong key, wrong associated data, or tampered/truncated data"


def _refused(call, *args, **kwargs) -> str:
    """Run ``call``; it must raise IntegrityError (any other exception fails the test)."""
    with pytest.raises(IntegrityError) as info:
        call(*args, **kwargs)
    return str(info.value)


@pytest.fixture
def no_scrypt(monkeypatch):
    """Make any scrypt run fail the test: for refusals that must come before the KDF."""
    def refuse(*args, **kwargs):
        raise AssertionError("scrypt ran, but the token should have been refused first")
    monkeypatch.setattr(crypto, "Scrypt", refuse)


def _cheap_password_token(plaintext: bytes, password: str, log2_n: int = 10) -> bytes:
    """A token in encrypt_with_password's layout at a cost it refuses to make: fast to test."""
    key, salt = crypto.derive_key_from_password(password, log2_n=log2_n)
    header = b"LKP1" + bytes([log2_n]) + salt
    return header + crypto.encrypt(plaintext, key, associated_data=header)


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


@pytest.mark.parametrize("array", [
    np.zeros(3, dtype=[("age", "<i4"), ("dose", "<f8")]),          # came back as V12
    np.zeros(2, dtype="V12"),
    np.zeros(2, dtype=[("nested", [("a", "u1")])]),
    np.array([None, 1], dtype=object),
])
def test_encrypt_array_refuses_structured_void_and_object_dtypes(key, array):
    with pytest.raises(TypeError, match="array must have a bool, numeric"):
        crypto.encrypt_array(array, key)


@pytest.mark.parametrize("array", [
    np.array([True, False]), np.arange(4, dtype=">i8"), np.array([1 + 2j], dtype=np.complex64),
    np.array(["ab", "c"]), np.array([b"xy"]), np.arange(3).astype("datetime64[ns]"),
    np.arange(3).astype("timedelta64[s]"), np.zeros((2, 0, 3), dtype=np.uint16),
])
def test_array_round_trip_of_other_fixed_size_dtypes(key, array):
    restored = crypto.decrypt_array(crypto.encrypt_array(array, key), key)
    assert restored.dtype == array.dtype and restored.shape == array.shape
    np.testing.assert_array_equal(restored, array)


def _array_token_with_header(header: bytes, body: bytes = bytes(40)) -> bytes:
    return b"LKA1" + struct.pack(">I", len(header)) + header + body


@pytest.mark.parametrize("header", [
    b"[" * 100_000,                                                   # was RecursionError
    json.dumps({"dtype": "<f4", "shape": [1e400]}).encode(),         # was OverflowError
    json.dumps({"dtype": "f4,(", "shape": [1]}).encode(),            # was SyntaxError
    json.dumps({"dtype": "(f4,", "shape": [1]}).encode(),
    json.dumps({"dtype": "<f4", "shape": [-1]}).encode(),
    b"\xff\xfe not json",
    json.dumps({"dtype": "<f4", "shape": [10]}).encode(),            # well formed, not authentic
])
def test_array_header_is_authenticated_before_it_is_parsed(key, header, monkeypatch):
    def no_parsing(*args, **kwargs):
        raise AssertionError("the header was parsed before the tag was checked")
    monkeypatch.setattr(crypto.json, "loads", no_parsing)
    assert _refused(crypto.decrypt_array, _array_token_with_header(header), key) == TAMPERED


def test_array_header_length_is_capped(key):
    token = crypto.encrypt_array(np.ones(3), key)
    for length in (4097, 2**31, 2**32 - 1):
        forged = token[:4] + struct.pack(">I", length) + token[8:]
        assert _refused(crypto.decrypt_array, forged, key) == TAMPERED
    assert _refused(crypto.decrypt_array, b"LKA1\0\0", key) == TAMPERED


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


def test_unseal_gives_one_error_for_every_failure(rsa_pair):
    """A forged envelope whose wrapped key is not a 32-byte AES key fails like any other."""
    private, public = rsa_pair
    messages = set()
    for data_key in (b"", b"k" * 15, b"k" * 16, b"k" * 31, b"k" * 33, b"k" * 64):
        wrapped = public.encrypt(data_key, crypto._OAEP)   # anyone can wrap with the public key
        header = b"LKS1" + struct.pack(">H", len(wrapped)) + wrapped
        body = crypto.encrypt(b"forged", b"k" * 32, associated_data=header)
        messages.add(_refused(crypto.unseal, header + body, private))
    sealed = crypto.seal(b"real", public)
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    messages.add(_refused(crypto.unseal, bytes(tampered), private))
    for length in (0, 255, 257, 512, 65535):                    # the length field disagrees with the key
        messages.add(_refused(crypto.unseal, sealed[:4] + struct.pack(">H", length) + sealed[6:], private))
    assert messages == {TAMPERED}


def test_seal_and_unseal_enforce_the_minimum_rsa_key_size():
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)   # made elsewhere
    with pytest.raises(ValueError, match=r"public must be an RSA key of 2048 to 16384 bits, got a 1024-bit"):
        crypto.seal(b"x", weak.public_key())
    with pytest.raises(ValueError, match=r"private must be an RSA key of 2048 to 16384 bits, got a 1024-bit"):
        crypto.unseal(b"LKS1" + bytes(200), weak)
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(TypeError, match="public must be an RSA public key"):
        crypto.seal(b"x", other.public_key())
    with pytest.raises(TypeError, match="private must be an RSA private key"):
        crypto.unseal(b"x", other)


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
    token = crypto.encrypt_with_password(b"backup", "correct horse")        # the default cost, 2**17
    assert token[:5] == b"LKP1" + bytes([17])
    assert crypto.decrypt_with_password(token, "correct horse") == b"backup"
    with pytest.raises(IntegrityError):
        crypto.decrypt_with_password(token, "correct horsf")
    cheap = _cheap_password_token(b"backup", "correct horse")
    assert crypto.decrypt_with_password(cheap, b"correct horse") == b"backup"
    for position in (0, 4 * 8, 5 * 8 + 3, len(cheap) * 8 - 1):  # magic, cost, salt, tag
        tampered = bytearray(cheap)
        tampered[position // 8] ^= 1 << (position % 8)
        with pytest.raises(IntegrityError):
            crypto.decrypt_with_password(bytes(tampered), "correct horse")
    with pytest.raises(IntegrityError):
        crypto.decrypt_with_password(cheap[:10], "correct horse")


@pytest.mark.parametrize("log2_n", [10, 14, 16])
def test_password_tokens_refuse_a_cost_below_the_minimum(log2_n, no_scrypt):
    with pytest.raises(ValueError, match=rf"log2_n must be in \[17, 20\].*got {log2_n}"):
        crypto.encrypt_with_password(b"backup", "pw", log2_n=log2_n)


def test_password_token_cost_is_capped_before_scrypt_runs(no_scrypt):
    salt = bytes(16)
    body = bytes(12 + 16)
    for cost in (0, 9, 21, 30, 64, 255):                        # outside [10, 20]: foreign or forged
        assert _refused(crypto.decrypt_with_password, b"LKP1" + bytes([cost]) + salt + body, "pw") == TAMPERED
    for cost, cap in ((18, 17), (20, 17), (11, 10), (17, 12)):  # above the caller's cap
        token = b"LKP1" + bytes([cost]) + salt + body
        assert _refused(crypto.decrypt_with_password, token, "pw", max_log2_n=cap) == TAMPERED


def test_password_token_within_a_lowered_cap_still_opens():
    token = _cheap_password_token(b"backup", "pw", log2_n=11)
    assert crypto.decrypt_with_password(token, "pw", max_log2_n=11) == b"backup"
    with pytest.raises(IntegrityError):
        crypto.decrypt_with_password(token, "pw", max_log2_n=10)
    for cap, error in ((9, ValueError), (21, ValueError), (17.0, TypeError), (None, TypeError)):
        with pytest.raises(error, match="max_log2_n"):
            crypto.decrypt_with_password(token, "pw", max_log2_n=cap)


def test_password_functions_check_argument_types_first(no_scrypt):
    for password in (None, 12345, 1.5, ["pw"]):
        with pytest.raises(TypeError, match="password"):
            crypto.decrypt_with_password(b"not a token", password)
        with pytest.raises(TypeError, match="password"):
            crypto.encrypt_with_password(b"x", password)
    with pytest.raises(TypeError, match="plaintext"):
        crypto.encrypt_with_password("text", "pw")              # before the costly scrypt
    with pytest.raises(TypeError, match="token"):
        crypto.decrypt_with_password("token", "pw")
    with pytest.raises(ValueError, match="password must not be empty"):
        crypto.decrypt_with_password(b"not a token", "")
    with pytest.raises(ValueError, match="password must be valid Unicode") as info:
        crypto.encrypt_with_password(b"x", "secret\ud800")
    assert "secret" not in str(info.value).replace("password must", "")


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


def test_other_wrong_types_name_the_parameter(key):
    with pytest.raises(TypeError, match="shape"):
        crypto.bytes_as_image(b"x" * 16, None)
    with pytest.raises(TypeError, match="shape"):
        crypto.bytes_as_image(b"x" * 16, (2, 2, 4))
    with pytest.raises(TypeError, match="entropy_bits"):
        crypto.expected_crack_seconds(["56"], 1)
    with pytest.raises(TypeError, match="guesses_per_second"):
        crypto.expected_crack_seconds(10, [None])
    with pytest.raises(ValueError, match="entropy_bits"):
        crypto.expected_crack_seconds(2**5000, 1)
    with pytest.raises(TypeError, match="key"):
        crypto.encrypt_array(np.ones(2), None)
    with pytest.raises(TypeError, match="key"):
        crypto.decrypt_array(b"LKA1", 1.5)
    with pytest.raises(TypeError, match="sealed"):
        crypto.unseal(None, crypto.generate_rsa_keypair(2048)[0])


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


# --- mutation fuzz: every changed token is refused with IntegrityError, nothing else ------------

FUZZ_MUTATIONS = 300


def _fuzz(token: bytes, open_token, seed: int) -> None:
    messages = {_refused(open_token, mutated) for mutated in mutations(token, FUZZ_MUTATIONS, seed)}
    assert messages == {TAMPERED}


def test_fuzz_aes_gcm_tokens(key):
    token = crypto.encrypt(b"patient 0042: HbA1c 6.1 %", key, associated_data=b"record-0042")
    _fuzz(token, lambda t: crypto.decrypt(t, key, associated_data=b"record-0042"), seed=1)


def test_fuzz_array_tokens(key):
    token = crypto.encrypt_array(np.arange(12, dtype=np.float32).reshape(3, 4), key, associated_data=b"v1")
    _fuzz(token, lambda t: crypto.decrypt_array(t, key, associated_data=b"v1"), seed=2)


def test_fuzz_sealed_envelopes(rsa_pair):
    private, public = rsa_pair
    _fuzz(crypto.seal(b"a record for the university", public), lambda t: crypto.unseal(t, private), seed=3)


def test_fuzz_password_tokens():
    token = _cheap_password_token(b"backup", "correct horse")
    start = time.perf_counter()
    # a service that opens strangers' tokens caps their cost; here 2**12, to keep the fuzz quick
    _fuzz(token, lambda t: crypto.decrypt_with_password(t, "correct horse", max_log2_n=12), seed=4)
    assert time.perf_counter() - start < 10


# --- AES key sizes, key agreement, signed arrays, the nonce-reuse lesson ------------------------


@pytest.mark.parametrize("bits", [128, 192, 256])
def test_generate_key_gives_every_aes_key_size_and_gcm_takes_it(bits):
    key = crypto.generate_key(bits)
    assert len(key) == bits // 8
    assert crypto.decrypt(crypto.encrypt(b"x", key), key) == b"x"


@pytest.mark.parametrize("bits", [0, 64, 129, 255, 512, 2**70])
def test_generate_key_refuses_other_sizes_naming_bits(bits):
    with pytest.raises(ValueError, match="bits"):
        crypto.generate_key(bits)


def test_x25519_matches_rfc7748_section_6_1_and_hkdf_matches_rfc5869():
    from cryptography.hazmat.primitives.asymmetric import x25519

    alice = x25519.X25519PrivateKey.from_private_bytes(bytes.fromhex(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
    bob = x25519.X25519PrivateKey.from_private_bytes(bytes.fromhex(
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
    shared = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
    assert alice.exchange(bob.public_key()) == shared
    # HKDF-SHA256 (RFC 5869, section 2) written out with the standard library, as a reference
    info, salt = b"St. Lumen -> university", b"salt"
    prk = std_hmac.new(salt, shared, hashlib.sha256).digest()
    okm = std_hmac.new(prk, info + b"\x01", hashlib.sha256).digest()
    assert crypto.agree_key(alice, bob.public_key(), info=info, salt=salt) == okm
    assert crypto.agree_key(bob, alice.public_key(), info=info, salt=salt) == okm
    no_salt = std_hmac.new(bytes(32), shared, hashlib.sha256).digest()   # RFC 5869: salt = HashLen zeros
    assert crypto.agree_key(alice, bob.public_key(), info=info) == std_hmac.new(
        no_salt, info + b"\x01", hashlib.sha256).digest()


def test_agreed_keys_match_pairwise_and_differ_by_peer_and_purpose():
    (a, a_pub), (b, b_pub), (_c, c_pub) = (crypto.generate_agreement_keypair() for _ in range(3))
    ab = crypto.agree_key(a, b_pub, info=b"lab results")
    assert ab == crypto.agree_key(b, a_pub, info=b"lab results") and len(ab) == 32
    assert ab != crypto.agree_key(a, c_pub, info=b"lab results")     # another peer, another key
    assert ab != crypto.agree_key(a, b_pub, info=b"model updates")    # another purpose, another key
    token = crypto.encrypt(b"HbA1c 6.1 %", ab)
    assert crypto.decrypt(token, crypto.agree_key(b, a_pub, info=b"lab results")) == b"HbA1c 6.1 %"


def test_agree_key_refuses_a_small_order_peer_and_bad_arguments():
    from cryptography.hazmat.primitives.asymmetric import x25519

    private, public = crypto.generate_agreement_keypair()
    zero = x25519.X25519PublicKey.from_public_bytes(bytes(32))   # a point of small order
    with pytest.raises(ValueError, match="peer_public"):
        crypto.agree_key(private, zero, info=b"x")
    signing, verifying = crypto.generate_signing_keypair()
    with pytest.raises(TypeError, match="private"):
        crypto.agree_key(signing, public, info=b"x")
    with pytest.raises(TypeError, match="peer_public"):
        crypto.agree_key(private, verifying, info=b"x")
    with pytest.raises(ValueError, match="info"):
        crypto.agree_key(private, public, info=b"")
    with pytest.raises(TypeError, match="info"):
        crypto.agree_key(private, public, info="text")
    with pytest.raises(TypeError, match="salt"):
        crypto.agree_key(private, public, info=b"x", salt="text")


def test_array_signatures_cover_values_dtype_and_shape():
    private, public = crypto.generate_signing_keypair()
    weights = np.random.default_rng(0).normal(size=(10, 64)).astype(np.float32)
    signature = crypto.sign_array(weights, private)
    assert crypto.verify_array(weights, signature, public)
    assert crypto.verify_array(weights.copy(), signature, public)
    # the same values in another memory layout or byte order are the same array
    assert crypto.verify_array(np.asfortranarray(weights), signature, public)
    assert crypto.verify_array(weights.astype(">f4"), signature, public)
    # the same bytes as another dtype or shape are another model: tobytes() alone would not tell
    for other in (weights.reshape(64, 10), weights.reshape(-1), weights.view(np.int32),
                  weights.view(np.float16).reshape(10, 128), weights.astype(np.float64)):
        assert other.tobytes() == weights.tobytes() or other.dtype != weights.dtype
        assert not crypto.verify_array(other, signature, public)
    changed = weights.copy()
    changed[3, 7] = np.nextafter(changed[3, 7], np.float32(np.inf))   # one ulp
    assert not crypto.verify_array(changed, signature, public)
    # a signed array is not a signature of its raw bytes, nor of its canonical bytes' prefix
    assert not crypto.verify(weights.tobytes(), signature, public)
    assert crypto.verify(crypto.canonical_array_bytes(weights), signature, public)


def test_canonical_array_bytes_layout():
    data = crypto.canonical_array_bytes(np.arange(3, dtype=">i2"))
    context = b"leptonkit signed array v1\x00"
    assert data.startswith(context)
    (n,) = struct.unpack(">I", data[len(context):len(context) + 4])
    header = json.loads(data[len(context) + 4:len(context) + 4 + n])
    assert header == {"dtype": "<i2", "shape": [3]}
    assert data[len(context) + 4 + n:] == np.arange(3, dtype="<i2").tobytes()


def test_array_signing_bad_inputs():
    private, public = crypto.generate_signing_keypair()
    with pytest.raises(TypeError, match="array"):
        crypto.sign_array([1.0, 2.0], private)
    with pytest.raises(TypeError, match="array"):
        crypto.sign_array(np.array([object()]), private)
    with pytest.raises(TypeError, match="private"):
        crypto.sign_array(np.zeros(2), public)
    with pytest.raises(TypeError, match="public"):
        crypto.verify_array(np.zeros(2), bytes(64), private)
    with pytest.raises(TypeError, match="signature"):
        crypto.verify_array(np.zeros(2), "sig", public)
    assert not crypto.verify_array(np.zeros(2), bytes(64), public)
    assert not crypto.verify_array(np.zeros(2), b"short", public)


def test_a_repeated_gcm_nonce_gives_away_the_xor_of_the_plaintexts(key):
    nonce = bytes(12)
    first, second = b"patient 0042: HbA1c 6.1 %", b"patient 0043: HIV positive"
    t1 = crypto.encrypt_with_nonce_insecure(first, key, nonce)
    t2 = crypto.encrypt_with_nonce_insecure(second, key, nonce)
    assert crypto.decrypt(t1, key) == first and crypto.decrypt(t2, key) == second
    c1, c2 = t1[12:-16], t2[12:-16]
    xor = bytes(x ^ y for x, y in zip(c1, c2, strict=False))
    assert xor == bytes(x ^ y for x, y in zip(first, second, strict=False))
    # knowing one plaintext reads the other
    assert bytes(x ^ y for x, y in zip(xor, first, strict=False)) == second[:len(first)]
    # with fresh nonces the same XOR says nothing
    f1, f2 = crypto.encrypt(first, key), crypto.encrypt(second, key)
    assert bytes(x ^ y for x, y in zip(f1[12:-16], f2[12:-16], strict=False)) != xor


def test_encrypt_with_nonce_insecure_checks_the_nonce(key):
    for nonce in (b"", bytes(8), bytes(16)):
        with pytest.raises(ValueError, match="nonce"):
            crypto.encrypt_with_nonce_insecure(b"x", key, nonce)
    with pytest.raises(TypeError, match="nonce"):
        crypto.encrypt_with_nonce_insecure(b"x", key, "nonce-string")
