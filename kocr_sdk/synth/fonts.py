"""Fonts on this machine, what they cover, and which are held out from training.

Coverage is read from each face's cmap with fontTools, so a string is only ever rendered with a
font that has every one of its characters (no tofu boxes in the training data). Fonts are held
out *by family name*: evaluation always uses families no model ever trained on.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from ..errors import KocrError

FONT_DIRS = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts"]
SUFFIXES = {".ttf", ".otf", ".ttc"}

# Held-out designs: a serif and two gothic Korean designs, a handwriting one, and Latin serif,
# sans and monospace designs. Matched by family-name prefix so that a design's variants
# (Noto Serif CJK KR/JP/SC..., UnBatang/UnJamoBatang, Liberation Serif and its twin Tinos) stay
# together on the held-out side. Never used for training.
HELDOUT_PREFIXES = (
    "Noto Serif CJK", "UnBatang", "UnJamoBatang", "UnDotum", "UnJamoDotum", "Baekmuk Gulim",
    "Nanum Pen Script", "Liberation Serif", "Tinos", "Carlito", "FreeMono",
)
# Symbol and dingbat faces map letters to pictures: never text.
EXCLUDED_FAMILIES = frozenset({"D050000L", "Standard Symbols PS", "DejaVu Math TeX Gyre"})


def is_heldout(family: str) -> bool:
    return family.startswith(HELDOUT_PREFIXES)


KS_X_1001_SAMPLE = "가각간갈감갑값강개객걀거건걸검겁게겨격견결겹경계고곡곤골곰곱곳공과관광괴교구국군굴굽궁권귀규균그극근글금급기긴길김깊까깎깐깔깜깝깨꺼꼬꼭꽃꾸꿈뀌끄끈끊끌끔끝끼낌나낙난날낡남납낫낮낯낱낳내냄냉너널넓넘넣네넥넷녀녁년념녕노녹논놀놈농높놓뇌누눈눕뉴느는늘능늦늬니닌닐님다닥닦단닫달닭닮담답닷당닿대댁댐더덕던덜덤덥덧덩덮데델도독돈돌돕동돼되된두둑둘둥뒤뒷드득든듣들듬듭듯등디딩딪따딱딸땀땅때땜떠떡떤떨떻떼또똑뚜뚫뚱뛰뜨뜩뜯뜰뜻띄라락란람랍랑랗래랜램랫략량러럭런럴럼럽럿렁렇레렉렌려력련렬렵령례로록론롬롭롯료루룩룹룻뤄류륙률륭르른름릇릎리릭린림립릿마막만많말맑맘맙맛망맞맡맣매맥맨맵맺머먹먼멀멈멋멍멎메멘멩며면멸명몇모목몰몸몹못몽묘무묵묶문묻물뭄뭇뭐뭘뭣므미민믿밀밉밌및밑바박밖반받발밝밟밤밥방밭배백뱀뱃뱉버번벌범법벗베벤벨벼벽변별볍병볕보복볶본볼봄봇봉뵈뵙부북분불붉붐붓붕붙뷰브븐블비빌빔빗빚빛빠빡빨빵빼뺏뺨뻐뻔뻗뼈뼉뽑뿌뿐쁘쁨사삭산살삶삼삿상새색샌생샤서석섞선설섬섭섯성세섹센셈셋셔션소속손솔솜솟송솥쇄쇠쇼수숙순숟술숨숫숭숲쉬쉰쉽슈스슨슬슴습슷승시식신싣실싫심십싯싱싶싸싹싼쌀쌍쌓써썩썰썹쎄쏘쏟쑤쓰쓴쓸씀씌씨씩씬씹씻아악안앉않알앓암압앗앙앞애액앨야약얀얄얇양얕얗얘어억언얹얻얼엄업없엇엉엊엌엎에엔엘여역연열엷염엽엿영옆예옛오옥온올옮옳옷옹와완왕왜왠외왼요욕용우욱운울움웃웅워원월웨웬위윗유육율으윽은을음응의이익인일읽잃임입잇있잊잎자작잔잖잘잠잡잣장잦재쟁쟤저적전절젊점접젓정젖제젠젯져조족존졸좀좁종좋좌죄주죽준줄줌줍중쥐즈즉즌즐즘증지직진질짐집짓징짙짚짜짝짧째쨌쩌쩍쩐쩔쩜쪽쫓쭈쭉찌찍찢차착찬찮찰참찻창찾채책챔챙처척천철첩첫청체쳐초촉촌촛총촬최추축춘출춤춥춧충취츠측츰층치칙친칠침칫칭카칸칼캄캐캠커컨컬컴컵컷케켓켜코콘콜콤콩쾌쿄쿠퀴크큰클큼키킬타탁탄탈탑탓탕태택탤터턱턴털텅테텍텔템토톤톨톱통퇴투툴툼퉁튀튜트특튼튿틀틈티틱팀팅파팎판팔팝패팩팬퍼퍽페펜펴편펼평폐포폭폰표푸푹풀품풍퓨프플픔피픽필핏핑하학한할함합항해핵핸햄햇행향허헌험헤헬혀현혈협형혜호혹혼홀홈홉홍화확환활황회획횟효후훈훌훔훨휘휴흉흐흑흔흘흙흡흥흩희흰히힘"


@dataclass(frozen=True)
class FontFace:
    """One face of a font file (a .ttc holds several), and the scripts it covers fully."""

    path: str
    index: int
    family: str
    scripts: frozenset[str]
    mono: bool

    @property
    def heldout(self) -> bool:
        return is_heldout(self.family)

    @functools.cached_property
    def cmap(self) -> frozenset[int]:
        return _cmap(self.path, self.index)

    def covers(self, text: str) -> bool:
        cmap = self.cmap
        return all(ord(c) in cmap for c in text if not c.isspace())


@functools.lru_cache(maxsize=None)
def _cmap(path: str, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True)
    return frozenset(font.getBestCmap() or {})


def _faces(path: Path) -> list[tuple[int, str, bool]]:
    from fontTools.ttLib import TTCollection, TTFont

    fonts = TTCollection(str(path), lazy=True).fonts if path.suffix.lower() == ".ttc" else [TTFont(str(path), lazy=True)]
    out = []
    for i, f in enumerate(fonts):
        name = f["name"]
        family = (name.getDebugName(16) or name.getDebugName(1) or path.stem).strip()
        mono = bool(getattr(f.get("post"), "isFixedPitch", 0))
        out.append((i, family, mono))
    return out


LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
HAN_SAMPLE = "中国人大日本年月出入上下"
KANA_SAMPLE = "あいうえおカキクケコ"


@functools.lru_cache(maxsize=None)
def discover_fonts(extra_dirs: tuple[str, ...] = ()) -> tuple[FontFace, ...]:
    """Every face under the font directories covering at least Latin, with its full-coverage scripts."""
    faces = []
    for root in [*FONT_DIRS, *map(Path, extra_dirs)]:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() not in SUFFIXES:
                continue
            try:
                entries = _faces(path)
            except Exception:  # an unreadable font file is skipped, not fatal
                continue
            for index, family, mono in entries:
                cmap = _cmap(str(path), index)
                scripts = set()
                if all(ord(c) in cmap for c in LATIN):
                    scripts.add("latin")
                if all(ord(c) in cmap for c in KS_X_1001_SAMPLE):
                    scripts.add("hangul")
                if all(ord(c) in cmap for c in HAN_SAMPLE):
                    scripts.add("han")
                if all(ord(c) in cmap for c in KANA_SAMPLE):
                    scripts.add("kana")
                if "latin" in scripts and family not in EXCLUDED_FAMILIES:
                    faces.append(FontFace(str(path), index, family, frozenset(scripts), mono))
    return tuple(faces)


def select_fonts(script: str, split: str = "train", extra_dirs: tuple[str, ...] = ()) -> list[FontFace]:
    """Faces covering ``script`` in the ``train``, ``heldout`` or ``all`` split; refuses to return none."""
    faces = [f for f in discover_fonts(extra_dirs) if script in f.scripts]
    if split == "train":
        faces = [f for f in faces if not f.heldout]
    elif split == "heldout":
        faces = [f for f in faces if f.heldout]
    if not faces:
        raise KocrError(
            f"no usable {script} font for split {split!r}: install fonts with "
            "`apt-get install fonts-nanum fonts-noto-cjk fonts-unfonts-core fonts-liberation` "
            "or pass --font-dir DIR"
        )
    return faces
