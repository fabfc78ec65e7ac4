"""A printed sheet of coupons: one cell per coupon, 12 to an A4 page, every QR scannable."""

import io
import re
import subprocess
import weakref

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from exchange.coupons.sheet import SheetCoupon, SheetHeader, write_sheet
from tests.pdfs import differing_pages, fonts
from tests.qr_scan import qr_texts

PUBLIC_URL = "http://127.0.0.1:8000"
HEADER = SheetHeader(
    title="暖暖孕婴坊 满200减30",
    value_text="立减 ¥30.00 · 满 ¥200.00 可用 / ¥30.00 off orders of ¥200.00+",
    owner_name="暖暖孕婴坊 Nuannuan Maternity",
    stores=["暖暖孕婴坊 人民路店 · 上海市黄浦区人民路 188 号",
            "暖暖孕婴坊 徐汇店 · 上海市徐汇区漕溪北路 88 号",
            "暖暖孕婴坊 浦东店 · 上海市浦东新区世纪大道 1 号"],
    expires_text="有效期至 2026-12-31 23:59 (北京时间) / valid until 2026-12-31 23:59 (Beijing time)",
)
_KEY = Ed25519PrivateKey.generate()


def signed_token(coupon_id: int) -> str:
    # The shape of a real coupon token (~190 characters): it decides the QR version and size.
    return jwt.encode({"c": coupon_id, "o": 1234, "exp": 1798761600}, _KEY, algorithm="EdDSA",
                      headers={"kid": "1", "typ": "cpn"})


def coupons(count: int):
    for i in range(count):
        yield SheetCoupon(code=f"7K3M-Q9TX-{i:05d}", public_url=PUBLIC_URL,
                          token=signed_token(12345678 + i))


@pytest.fixture(scope="module")
def sheet_of_13(tmp_path_factory):
    path = tmp_path_factory.mktemp("sheet") / "coupons.pdf"
    expected = list(coupons(13))
    with path.open("wb") as out:
        pages = write_sheet(out, HEADER, iter(expected))
    return path, pages, expected


def poppler(*args: str) -> str:
    # poppler-utils comes with `make test` (scripts/system-deps.sh): missing, the test fails.
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def test_thirteen_coupons_take_two_a4_pages(sheet_of_13):
    path, pages, _ = sheet_of_13
    info = poppler("pdfinfo", str(path))
    assert pages == 2
    assert re.search(r"^Pages:\s+2$", info, re.MULTILINE)
    assert re.search(r"^Page size:.*\(A4\)", info, re.MULTILINE)


def test_every_qr_on_a_page_printed_at_150_dpi_scans_to_its_coupon_link(sheet_of_13, tmp_path):
    path, _, expected = sheet_of_13
    poppler("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile",
            str(path), str(tmp_path / "page"))
    links = qr_texts(Image.open(tmp_path / "page.png"))

    prefix = f"{PUBLIC_URL}/c/"
    assert len(links) == 12
    # qr.py upper-cases the scheme, host and path to fit QR alphanumeric mode; the token is exact.
    assert all(link[:len(prefix)].lower() == prefix for link in links)
    assert sorted(link[len(prefix):] for link in links) == sorted(c.token for c in expected[:12])


def test_chinese_offer_text_is_real_text_on_every_coupon(sheet_of_13):
    path, _, _ = sheet_of_13
    page_1 = poppler("pdftotext", "-f", "1", "-l", "1", str(path), "-")
    page_2 = poppler("pdftotext", "-f", "2", "-l", "2", str(path), "-")

    assert page_1.count("暖暖孕婴坊 满200减30") == 12
    assert page_2.count("暖暖孕婴坊 满200减30") == 1
    assert page_1.count("有效期至 2026-12-31 23:59 (北京时间)") == 12
    assert page_1.count("7K3M-Q9TX-00011") == 1 and "7K3M-Q9TX-00012" in page_2


def test_only_the_first_two_stores_are_listed_then_a_count(sheet_of_13):
    path, _, _ = sheet_of_13
    text = poppler("pdftotext", "-f", "2", "-l", "2", str(path), "-")

    assert "人民路店" in text and "徐汇店" in text
    assert "浦东店" not in text
    assert "等 3 家门店 / +1 more" in text


def test_a_generator_of_coupons_is_drawn_as_it_is_read_not_collected_first():
    drawn_so_far: list[weakref.ref] = []
    most_alive = 0

    def watched(count: int):
        nonlocal most_alive
        for coupon in coupons(count):
            most_alive = max(most_alive, sum(ref() is not None for ref in drawn_so_far))
            drawn_so_far.append(weakref.ref(coupon))
            yield coupon

    assert write_sheet(io.BytesIO(), HEADER, watched(30)) == 3

    # Collecting the input first would keep all 29 earlier coupons alive; drawing as they come
    # keeps at most a page's worth.
    assert most_alive <= 12


def test_an_empty_sheet_is_refused(tmp_path):
    with (tmp_path / "empty.pdf").open("wb") as out, pytest.raises(ValueError):
        write_sheet(out, HEADER, iter(()))


def test_every_font_of_the_sheet_is_embedded(sheet_of_13):
    path, _, _ = sheet_of_13
    used = fonts(path)
    assert used and all(font["emb"] for font in used), used
    assert {font["type"] for font in used} == {"TrueType"}


def test_the_sheet_looks_the_same_on_a_machine_without_chinese_fonts(sheet_of_13, tmp_path):
    path, _, _ = sheet_of_13
    assert differing_pages(path, tmp_path) == []


def test_the_comparison_sees_a_font_that_is_not_embedded(tmp_path):
    # A control: the same kind of page in Adobe's STSong-Light, which readers must supply (what
    # the sheets used before), comes out differently where no Chinese font is installed.
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "unembedded.pdf"
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setFont("STSong-Light", 14)
    canvas.drawString(72, 720, HEADER.title)
    canvas.save()
    assert not all(font["emb"] for font in fonts(path))
    assert differing_pages(path, tmp_path) == [1]


def test_the_manual_code_is_set_in_the_monospaced_face_and_reads_back(sheet_of_13):
    path, _, _ = sheet_of_13
    assert any(font["name"].endswith("WenQuanYiMicroHeiMono-1") for font in fonts(path))
    assert "7K3M-Q9TX-00000" in poppler("pdftotext", "-f", "1", "-l", "1", str(path), "-")
