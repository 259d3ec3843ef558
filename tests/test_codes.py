"""Residents' codes: opaque HMAC tokens, and PNGs a real decoder (zxing-cpp) reads back."""
import base64
import io

import pytest
import zxingcpp
from PIL import Image

from sampling.residents import codes
from sampling.residents.codes import InvalidCode


def decode_png(data: bytes) -> list[str]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return [r.text for r in zxingcpp.read_barcodes(image.convert("L")) if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("resident_id", [1, 2, 42, 1_000_000, 14_000_000, 2**40 - 1])
def test_token_round_trips(app, resident_id):
    token = codes.token_for(resident_id)
    assert len(token) == 26 <= 40
    assert codes.TOKEN_PATTERN.fullmatch(token)
    assert codes.read(token) == (resident_id, 0)


def test_token_carries_no_personal_data_and_is_not_sequential(app):
    first, second = codes.token_for(1), codes.token_for(2)
    assert first[:2] == "S1"
    assert first[10:] != second[10:]  # the tag changes completely with the id
    assert sum(a == b for a, b in zip(first[10:], second[10:], strict=True)) < 8


def test_token_tag_has_at_least_64_bits(app):
    tag = codes.token_for(7)[10:]
    assert len(base64.b32decode(tag + "=" * (-len(tag) % 8))) * 8 >= 64


def test_scanner_noise_is_tolerated(app):
    token = codes.token_for(99)
    assert codes.read(f"  {token.lower()}\n") == (99, 0)


def _altered(token: str, position: int) -> str:
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1:]


def test_every_single_character_change_is_rejected(app):
    token = codes.token_for(12345)
    for position in range(len(token)):
        with pytest.raises(InvalidCode):
            codes.read(_altered(token, position))


def test_changing_the_id_part_to_another_resident_is_rejected(app):
    mine, other = codes.token_for(5), codes.token_for(6)
    forged = other[:10] + mine[10:]  # someone else's id with my tag
    with pytest.raises(InvalidCode):
        codes.read(forged)


@pytest.mark.parametrize("bad", ["", None, 12345, "S1", "S1ABC", "https://example.com/?id=1",
                                 "120101199001011238", "S2" + "A" * 24, "S1" + "1" * 24, "S1" + "A" * 25,
                                 "S1" + "A" * 24])
def test_malformed_tokens_are_rejected(app, bad):
    with pytest.raises(InvalidCode):
        codes.read(bad)


def test_truncated_and_extended_tokens_are_rejected(app):
    token = codes.token_for(777)
    for cut in range(1, len(token)):
        with pytest.raises(InvalidCode):
            codes.read(token[:cut])
    with pytest.raises(InvalidCode):
        codes.read(token + "A")


def test_token_from_another_secret_is_rejected(make_app):
    ours, theirs = make_app(CODE_SECRET="our-secret"), make_app(CODE_SECRET="their-secret")
    with theirs.app_context():
        foreign = codes.token_for(10)
    with ours.app_context():
        assert codes.token_for(10) != foreign
        with pytest.raises(InvalidCode):
            codes.read(foreign)


def test_code_secret_defaults_to_secret_key(make_app):
    with make_app(SECRET_KEY="same-key").app_context():
        implicit = codes.token_for(3)
    with make_app(SECRET_KEY="other-key", CODE_SECRET="same-key").app_context():
        assert codes.token_for(3) == implicit


def test_invalid_code_is_a_422_with_a_stable_code(app):
    with pytest.raises(InvalidCode) as exc:
        codes.read("nonsense")
    assert exc.value.status == 422 and exc.value.code == "invalid_code"


@pytest.mark.parametrize("resident_id", [1, 314159, 2**40 - 1])
def test_png_decodes_to_the_token(app, resident_id):
    token = codes.token_for(resident_id)
    png = codes.render_png(token)
    assert decode_png(png) == [token]


def test_png_is_small_with_quiet_zone_and_medium_error_correction(app):
    token = codes.token_for(1)
    png = codes.render_png(token, box_size=10, border=4)
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size == (25 * 10 + 2 * 4 * 10,) * 2  # version 2: 25 modules, 4-module quiet zone
    corner = image.crop((0, 0, 40, 40))
    assert corner.getextrema() == (255, 255)  # the quiet zone is white
    result = zxingcpp.read_barcodes(image)[0]
    assert result.ec_level == "M" and result.text == token
    assert len(png) < 2000


def test_small_print_png_still_decodes(app):
    token = codes.token_for(2024)
    assert decode_png(codes.render_png(token, box_size=3)) == [token]
