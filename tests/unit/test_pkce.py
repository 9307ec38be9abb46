"""PKCE (RFC 7636) verifier and challenge, and the state and nonce of an OIDC sign-in."""

import base64

import pytest

from services.auth.domain import pkce

# RFC 7636 appendix B: 32 random octets, the verifier they encode to, and its S256 challenge.
RFC_OCTETS = bytes([116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
                    22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121])
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_rfc_7636_appendix_b_vector():
    assert base64.urlsafe_b64encode(RFC_OCTETS).rstrip(b"=").decode() == RFC_VERIFIER
    assert pkce.s256_challenge(RFC_VERIFIER) == RFC_CHALLENGE
    assert pkce.verifier_matches(RFC_VERIFIER, RFC_CHALLENGE)


def test_a_different_verifier_does_not_match():
    assert not pkce.verifier_matches(pkce.new_code_verifier(), RFC_CHALLENGE)
    assert not pkce.verifier_matches(RFC_VERIFIER, RFC_CHALLENGE[:-1] + "A")
    assert not pkce.verifier_matches("too-short", RFC_CHALLENGE)
    assert not pkce.verifier_matches(RFC_VERIFIER, "é" * 43)  # non-ASCII must not raise


@pytest.mark.parametrize(("octets", "length"), [(32, 43), (48, 64), (96, 128)])
def test_new_verifiers_have_the_allowed_length_and_alphabet(octets, length):
    verifier = pkce.new_code_verifier(octets)
    assert len(verifier) == length
    assert pkce.is_valid_verifier(verifier)


@pytest.mark.parametrize("octets", [0, 31, 97])
def test_verifier_entropy_outside_the_rfc_range_is_refused(octets):
    with pytest.raises(ValueError):
        pkce.new_code_verifier(octets)


@pytest.mark.parametrize("verifier", ["a" * 42, "a" * 129, "a" * 42 + " ", "a" * 42 + "+"])
def test_malformed_verifiers_are_invalid(verifier):
    assert not pkce.is_valid_verifier(verifier)
    with pytest.raises(ValueError):
        pkce.s256_challenge(verifier)


def test_verifier_state_and_nonce_are_fresh_each_time():
    for make in (pkce.new_code_verifier, pkce.new_state, pkce.new_nonce):
        values = {make() for _ in range(100)}
        assert len(values) == 100
        assert all(len(value) >= 43 for value in values)  # at least 256 bits, base64url
