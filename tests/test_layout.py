"""Text clustering and reading order on constructed layouts (no images, no OCR)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kocr_sdk import Engine, KocrConfigError
from kocr_sdk.document import Char, Page, Word
from kocr_sdk.geometry import quad_from_box
from kocr_sdk.layout import ClusterConfig, DbscanClusterer, ReadingFrame, cluster_page, xy_cut
from tests.builders import H, page_of, row, skewed, turned

def lines_text(page, blocks):
    by_id = {w.id: w.text for w in page.words}
    return [[" ".join(by_id[i] for i in line.word_ids) for line in b.lines] for b in blocks]


def reading(page, blocks):
    return [wid for b in blocks for line in b.lines for wid in line.word_ids]


# ------------------------------------------------------------------------------------ layouts
def two_columns():
    items = row(["Title", "of", "page"], 380, 40)
    left = [["alpha", "beta", "gamma"], ["delta", "eps"], ["zeta", "eta", "theta"], ["iota", "kappa"]]
    right = [["one", "two", "three"], ["four", "five"], ["six", "seven"], ["eight", "nine", "ten"]]
    for k, (a, b) in enumerate(zip(left, right)):
        y = 120 + k * int(H * 1.35)  # paragraph leading: 0.35 heights between lines
        items += row(a, 100, y)
        items += row(b, 100 + 330, y)  # gutter of ~3 heights after the longest left line
    return page_of(items)


def key_values():
    keys = [["등록번호", ":"], ["상호"], ["대표자"]]
    values = [["124-81-00998"], ["(주)한빛", "테크"], ["홍길동"]]
    items = []
    for k, (key, value) in enumerate(zip(keys, values)):
        y = 100 + k * H * 2
        items += row(key, 80, y)
        items += row(value, 500, y)  # ~15 heights to the right
    return page_of(items)


def test_two_columns_are_never_glued_and_read_one_after_the_other():
    page = two_columns()
    blocks = cluster_page(page)
    texts = lines_text(page, blocks)
    assert texts[0] == ["Title of page"]
    assert texts[1:] == [["alpha beta gamma", "delta eps", "zeta eta theta", "iota kappa"],
                         ["one two three", "four five", "six seven", "eight nine ten"]]
    assert page.model_copy(update={"blocks": blocks}).text.startswith("Title of page\n\nalpha beta gamma\ndelta eps")


def test_key_and_far_right_value_are_separate_lines_read_row_by_row():
    page = key_values()
    blocks = cluster_page(page)
    lines = [line for b in lines_text(page, blocks) for line in b]
    assert lines == ["등록번호 :", "124-81-00998", "상호", "(주)한빛 테크", "대표자", "홍길동"]
    # a generous line gap glues them: the parameter is what separates them, in text heights
    wide = cluster_page(page, ClusterConfig(line_gap=20))
    assert [line for b in lines_text(page, wide) for line in b][0] == "등록번호 : 124-81-00998"


def test_table_cells_read_row_by_row():
    items = []
    cells = [["품명", "수량", "금액"], ["사과", "3", "9,000"], ["배", "10", "25,000"]]
    for r, cells_row in enumerate(cells):
        for c, text in enumerate(cells_row):
            items += row([text], 100 + c * 200, 100 + r * int(H * 2.2))
    page = page_of(items)
    blocks = cluster_page(page)
    assert [line for b in lines_text(page, blocks) for line in b] == [t for r in cells for t in r]
    assert all(len(line.word_ids) == 1 for b in blocks for line in b.lines)


def test_letter_spaced_title_is_one_line_but_a_wide_gap_is_not():
    page = page_of(row(list("사업자등록증"), 100, 100, gap=16) + row(["합", "계"], 100, 200, gap=int(H * 3)))
    texts = [line for b in lines_text(page, cluster_page(page)) for line in b]
    assert texts == ["사 업 자 등 록 증", "합", "계"]


def test_a_colon_or_dot_joins_its_line_despite_its_small_height():
    items = row(["합계"], 100, 100) + [(":", (132, 105, 136, 115))] + row(["12,000원"], 144, 100)
    items += [(".", (250, 116, 253, 120))]
    page = page_of(items)
    assert [line for b in lines_text(page, cluster_page(page)) for line in b] == ["합계 : 12,000원 ."]


def test_title_is_not_merged_into_the_paragraph_under_it():
    items = [("제목", (100, 100, 180, 150))]  # 50 px high
    items += row(["body", "text"], 100, 160) + row(["more", "text"], 100, 187)
    page = page_of(items)
    assert lines_text(page, cluster_page(page)) == [["제목"], ["body text", "more text"]]


@pytest.mark.parametrize("angle", [90, 180, 270])
@pytest.mark.parametrize("layout", [two_columns, key_values])
def test_rotated_pages_cluster_and_read_like_upright_ones(angle, layout):
    page = layout()
    upright = cluster_page(page)
    rotated_page = turned(page, angle)
    rotated = cluster_page(rotated_page)
    assert lines_text(rotated_page, rotated) == lines_text(page, upright)
    assert reading(rotated_page, rotated) == reading(page, upright)
    # quads of lines stay in reading order: the first edge points the way the text reads
    q = np.asarray(rotated[-1].lines[0].quad)
    direction = math.degrees(math.atan2(*(q[1] - q[0])[::-1]))
    assert round(direction) % 360 == (-angle) % 360


def test_rotated_page_with_axis_aligned_quads_trusts_page_orientation():
    page = key_values()
    rot = turned(page, 90)
    # a detector that only knows boxes: quads in image axes, reading order lost
    boxes = [Word(id=w.id, quad=quad_from_box(w.box), text=w.text) for w in rot.words]
    flat = rot.model_copy(update={"words": boxes})
    assert lines_text(flat, cluster_page(flat)) == lines_text(page, cluster_page(page))


@pytest.mark.parametrize("layout", [two_columns, key_values])
def test_skewed_page_keeps_its_lines(layout):
    page = layout()
    tilted = skewed(page, 2.5, centre=(500, 500))
    assert lines_text(tilted, cluster_page(tilted)) == lines_text(page, cluster_page(page))


def test_deskew_is_what_keeps_long_skewed_lines_apart():
    items = []
    for r in range(6):
        items += row([f"w{r}{k}" for k in range(25)], 50, 100 + r * int(H * 1.3), gap=8)  # 1,200 px lines
    page = page_of(items, width=1400)
    expected = [[" ".join(f"w{r}{k}" for k in range(25)) for r in range(6)]]
    tilted = skewed(page, 3, centre=(700, 200))  # the lines drift ~60 px (3 rows) end to end
    assert lines_text(page, cluster_page(page)) == expected
    assert lines_text(tilted, cluster_page(tilted)) == expected
    assert lines_text(tilted, cluster_page(tilted, ClusterConfig(deskew=False))) != expected


def _with_letter_boxes(page):
    """Each word given one character quad per letter, evenly along its (possibly turned) quad."""
    words = []
    for w in page.words:
        tl, tr, br, bl = (np.asarray(p, dtype=float) for p in w.quad)
        n = len(w.text)

        def at(t, tl=tl, tr=tr, br=br, bl=bl):
            return tl + (tr - tl) * t, bl + (br - bl) * t

        chars = []
        for j, t in enumerate(w.text):
            (a, d), (b, c) = at(j / n), at((j + 1) / n)
            chars.append(Char(id=f"{w.id}-c{j}", text=t, quad=tuple(tuple(map(float, p)) for p in (a, b, c, d))))
        words.append(w.model_copy(update={"chars": chars}))
    return page.model_copy(update={"words": words})


def _axis_aligned(page, keep_chars=True):
    """Every word and character quad replaced by its bounding box, as an axis-aligned detector reports it."""
    def box(q):
        a = np.asarray(q)
        return quad_from_box((a[:, 0].min(), a[:, 1].min(), a[:, 0].max(), a[:, 1].max()))
    words = [w.model_copy(update={"quad": box(w.quad),
                                  "chars": [c.model_copy(update={"quad": box(c.quad)}) for c in w.chars] if keep_chars else []})
             for w in page.words]
    return page.model_copy(update={"words": words})


def test_skew_is_read_from_character_centres_when_word_boxes_are_level():
    # the shipped detector boxes a 3°-askew word level; its letters' centres still climb
    items = []
    for r in range(6):
        items += row([f"w{r}{k}" for k in range(25)], 50, 100 + r * int(H * 1.3), gap=8)
    expected = [[" ".join(f"w{r}{k}" for k in range(25)) for r in range(6)]]
    tilted = _with_letter_boxes(skewed(page_of(items, width=1400), 3, centre=(700, 200)))
    level = _axis_aligned(tilted)
    assert math.degrees(ReadingFrame.for_page(level).angle) == pytest.approx(3, abs=0.5)
    assert lines_text(level, cluster_page(level)) == expected
    no_letters = _axis_aligned(tilted, keep_chars=False)
    assert ReadingFrame.for_page(no_letters).angle == 0
    assert lines_text(no_letters, cluster_page(no_letters)) != expected


def test_one_word_read_sideways_does_not_tilt_the_frame():
    items = []
    for r in range(4):
        items += row([f"w{r}{k}" for k in range(6)], 50, 100 + r * int(H * 1.3))
    page = page_of(items)
    assert ReadingFrame.for_page(page).angle == pytest.approx(0, abs=1e-9)
    # a detector's stray vertical box (a table's side label, a misread title): tilted by a degree before
    vertical = Word(id="v", text="KIO", quad=((720, 147), (720, 185), (695, 185), (695, 147)))
    with_stray = page.model_copy(update={"words": [*page.words, vertical]})
    assert math.degrees(abs(ReadingFrame.for_page(with_stray).angle)) < 0.01


def test_xy_cut_orders_header_columns_and_footer():
    boxes = np.array([
        [0, 0, 100, 10],    # 0 header
        [0, 20, 40, 80],    # 1 left column
        [60, 20, 100, 50],  # 2 right column, top
        [60, 55, 100, 80],  # 3 right column, bottom
        [0, 90, 100, 100],  # 4 footer
    ], dtype=float)
    assert xy_cut(boxes) == [0, 1, 2, 3, 4]


def test_empty_page_has_no_blocks():
    assert cluster_page(Page(width=10, height=10)) == []


def test_block_and_line_ids_and_boxes_are_consistent():
    page = two_columns()
    blocks = cluster_page(page)
    ids = [w for b in blocks for line in b.lines for w in line.word_ids]
    assert sorted(ids) == sorted(w.id for w in page.words)  # every word exactly once
    by_id = {w.id: w for w in page.words}
    for b in blocks:
        for line in b.lines:
            x0, y0, x1, y1 = line.box
            assert all(x0 <= by_id[i].box[0] and by_id[i].box[2] <= x1 + 1e-6 for i in line.word_ids)
    clone = page.model_copy(update={"blocks": blocks})
    assert Page.model_validate_json(clone.model_dump_json()) == clone


def test_engine_runs_the_dbscan_clusterer_by_default_with_options(fake_plugin, white_page):
    eng = Engine(load_entrypoints=False, clusterer="dbscan", detector="fixed", plugins=[fake_plugin])
    page = eng.read(white_page).pages[0]
    assert {r.stage: r.implementation for r in page.stages}["clusterer"] == "dbscan"
    assert page.text == "가나 가나\n\n가나"  # (10..60) and (70..130) on one line, the next line below
    with pytest.raises(KocrConfigError, match="line_gap"):
        DbscanClusterer(line_gap=-1)
    with pytest.raises(KocrConfigError, match="colour"):
        DbscanClusterer(colour="red")
