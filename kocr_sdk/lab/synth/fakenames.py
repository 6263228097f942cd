"""Faker's names, companies, addresses and e-mail addresses, drawn from lists extracted from Faker.

Why: a training bundle (``kocr train bundle``) carries no ``faker`` package, yet its generator
must print the very text a machine with Faker prints for the same seed. Faker's providers are
lists plus a few rules; :func:`extract` writes the lists the generator's calls reach (ko_KR and
en_US: ``name``, ``first_name``, ``last_name``, ``company``, ``address``, ``road_address``,
``land_address``, ``building_name``, ``email``, ``free_email``), and :class:`ListFaker` replays
those rules on the same ``random.Random`` draws, call for call. :func:`verify` compares the two
on many seeds; extraction refuses to write lists that do not reproduce the installed Faker (a
Faker release that changes a rule is caught when a bundle is packed, not after a run).
"""

from __future__ import annotations

import random
import re
import string
import unicodedata
from typing import Any, Callable

from ...errors import KocrError

__all__ = ["LOCALES", "METHODS", "ListFaker", "extract", "verify"]

#: The locales and the methods :class:`~.text.TextSource` calls.
LOCALES = ("ko_KR", "en_US")
METHODS: dict[str, tuple[str, ...]] = {
    "ko_KR": ("name", "company", "address", "road_address", "land_address", "building_name", "email", "free_email"),
    "en_US": ("name", "first_name", "last_name", "company", "address", "email", "free_email"),
}

# How each formatter the methods reach draws its text: an operation on the elements extracted for
# it (the provider attribute named here). ``pick``: one element; ``parse``: one element, its
# ``{{formatter}}`` tokens replaced; ``bothify``/``numerify``: one element, its placeholders
# filled; ``numerify_fixed``: the attribute itself is the pattern. The rest are rules of their own.
_RULES: dict[str, dict[str, tuple[str, Any]]] = {
    "ko_KR": {
        "name": ("parse", "formats"), "last_name": ("pick", "last_names"), "first_name": ("pick", "first_names"),
        "first_name_female": ("pick", "first_names_female"), "first_name_male": ("pick", "first_names_male"),
        "company": ("parse", "formats"), "company_suffix": ("pick", "company_suffixes"),
        "company_name_word": ("pick", "company_name_words"), "brand_suffix": ("pick", "brand_suffixes"),
        "address": ("parse", "address_formats"), "road_address": ("parse", "road_address_formats"),
        "land_address": ("parse", "land_address_formats"), "building_name": ("parse", "building_name_formats"),
        "metropolitan_city": ("pick", "metropolitan_cities"), "borough": ("pick", "boroughs"),
        "province": ("pick", "provinces"), "city": ("parse", "cities"), "town": ("parse", "town_formats"),
        "road": ("parse", "road_formats"), "road_name": ("pick", "road_names"), "road_suffix": ("pick", "road_suffixes"),
        "road_number": ("bothify", "road_numbers"), "land_number": ("bothify", "land_numbers"),
        "town_suffix": ("pick", "town_suffixes"), "building_suffix": ("pick", "building_suffixes"),
        "building_number": ("ko_building_number", None),
        "user_name": ("user_name", "user_name_formats"), "free_email_domain": ("pick", "free_email_domains"),
        "safe_domain_name": ("pick", "safe_domain_names"), "email": ("email", None), "free_email": ("free_email", None),
    },
    "en_US": {
        "name": ("parse", "formats"), "first_name": ("pick", "first_names"), "last_name": ("pick", "last_names"),
        **{f"{part}_{sex}": ("pick", f"{plural}_{sex}") for part, plural in
           (("first_name", "first_names"), ("prefix", "prefixes"), ("suffix", "suffixes"))
           for sex in ("female", "male", "nonbinary")},
        "company": ("parse", "formats"), "company_suffix": ("pick", "company_suffixes"),
        "address": ("parse", "address_formats"), "street_address": ("parse", "street_address_formats"),
        "city": ("parse", "city_formats"), "street_name": ("parse", "street_name_formats"),
        "state_abbr": ("pick", ("states_abbr", "territories_abbr", "freely_associated_states_abbr")),
        "postcode": ("us_postcode", None), "military_apo": ("numerify_fixed", "military_apo_format"),
        "military_dpo": ("numerify_fixed", "military_dpo_format"), "military_state": ("pick", "military_state_abbr"),
        "military_ship": ("pick", "military_ship_prefix"), "building_number": ("numerify", "building_number_formats"),
        "secondary_address": ("numerify", "secondary_address_formats"), "city_prefix": ("pick", "city_prefixes"),
        "city_suffix": ("pick", "city_suffixes"), "street_suffix": ("pick", "street_suffixes"),
        "user_name": ("user_name", "user_name_formats"), "free_email_domain": ("pick", "free_email_domains"),
        "safe_domain_name": ("pick", "safe_domain_names"), "email": ("email", None), "free_email": ("free_email", None),
    },
}

_TOKEN = re.compile(r"\{\{\s*(\w+)(:\s*\w+?)?\s*\}\}")  # Faker's generator.parse
_PLACEHOLDERS = (("#", lambda r: r.randint(0, 9)), ("%", lambda r: r.randint(1, 9)), ("$", lambda r: r.randint(2, 9)),
                 ("!", lambda r: r.randint(0, 9) if r.randint(0, 1) else ""),
                 ("@", lambda r: r.randint(1, 9) if r.randint(0, 1) else ""))
_NOT_WORD = re.compile(r"[^\w\s-]", flags=re.U)
_SPACES = re.compile(r"[-\s]+", flags=re.U)


def _slugify_unicode(value: str) -> str:
    """Faker's ``slugify(value, allow_unicode=True)``."""
    value = unicodedata.normalize("NFKC", value)
    value = _NOT_WORD.sub("", value).strip().lower()
    return _SPACES.sub("-", value)


class ListFaker:
    """One locale of Faker, replayed from extracted lists: ``seed_instance`` then the methods of
    :data:`METHODS`, each returning what ``faker.Faker(locale)`` returns for the same seed."""

    def __init__(self, locale: str, data: dict[str, Any]) -> None:
        if locale not in _RULES:
            raise KocrError(f"no extracted Faker lists for locale {locale!r}; known: {', '.join(_RULES)}")
        self.locale = locale
        self.random = random.Random()
        self._elements: dict[str, tuple[list[Any], list[float] | None]] = {
            token: (entry["items"], entry.get("weights")) for token, entry in data["elements"].items()}
        self._ascii: dict[str, str] = data["ascii"]
        self._replacements: list[tuple[str, str]] = [tuple(pair) for pair in data.get("replacements", [])]
        self._rules: dict[str, Callable[[], str]] = {token: self._rule(token, op) for token, (op, _) in
                                                     _RULES[locale].items()}

    def seed_instance(self, seed: Any = None) -> "ListFaker":
        self.random.seed(seed)
        return self

    def __getattr__(self, name: str) -> Callable[[], str]:
        rules = self.__dict__.get("_rules")
        if rules is not None and name in METHODS[self.__dict__["locale"]]:
            return rules[name]
        raise AttributeError(f"{type(self).__name__}({self.__dict__.get('locale')!r}) has no method {name!r}")

    # -- Faker's primitives, draw for draw --------------------------------------------------------------
    def _pick(self, token: str) -> Any:
        items, weights = self._elements[token]
        if weights is None:
            return self.random.choice(items)
        return self.random.choices(items, weights=weights, k=1)[0]

    def _parse(self, text: str) -> str:
        return _TOKEN.sub(lambda m: str(self._rules[m.group(1)]()), text)

    def _numerify(self, text: str) -> str:
        for mark, draw in _PLACEHOLDERS:
            text = re.sub(re.escape(mark), lambda _m, draw=draw: str(draw(self.random)), text)
        return text

    def _bothify(self, text: str) -> str:
        return re.sub(r"\?", lambda _m: self.random.choice(string.ascii_letters), self._numerify(text))

    def _to_ascii(self, text: str) -> str:
        for search, replace in self._replacements:
            text = text.replace(search, replace)
        return "".join(self._ascii.get(ch, ch if ch.isascii() else "") for ch in text)

    # -- rules -------------------------------------------------------------------------------------------
    def _rule(self, token: str, op: str) -> Callable[[], str]:
        if op == "pick":
            return lambda: self._pick(token)
        if op == "parse":
            return lambda: self._parse(self._pick(token))
        if op == "bothify":
            return lambda: self._bothify(self._pick(token))
        if op == "numerify":
            return lambda: self._numerify(self._pick(token))
        if op == "numerify_fixed":
            return lambda: self._numerify(self._elements[token][0][0])
        if op == "user_name":
            return lambda: _slugify_unicode(self._to_ascii(self._bothify(self._parse(self._pick(token))).lower()))
        if op == "ko_building_number":
            return self._ko_building_number
        if op == "us_postcode":
            return lambda: "%05d" % self.random.randint(501, 99950)
        if op in ("email", "free_email"):  # Faker's email(safe=True) and free_email(), lower-cased
            domain = "safe_domain_name" if op == "email" else "free_email_domain"
            return lambda: f"{self._rules['user_name']()}@{self._rules[domain]().lower()}".lower()
        raise KocrError(f"unknown Faker rule {op!r} for {token!r}")  # pragma: no cover - the tables are fixed

    def _ko_building_number(self) -> str:
        r = self.random
        if r.randrange(0, 10000) % 9 < 1:
            return "지하%d" % r.randint(1, 999)
        if r.randrange(0, 10000) % 9 < 4:
            main = r.randint(1, 999)
            return "%d-%d" % (main, r.randint(1, 99))
        return "%d" % r.randint(1, 999)


# ----------------------------------------------------------------------------------------- extraction
def _elements_of(value: Any) -> dict[str, Any]:
    """A provider attribute as JSON: its items, and its weights when Faker draws it weighted."""
    if isinstance(value, dict):
        return {"items": list(value.keys()), "weights": list(value.values())}
    if isinstance(value, str):
        return {"items": [value]}
    return {"items": list(value)}


def extract(locale: str) -> dict[str, Any]:
    """The lists :class:`ListFaker` needs for ``locale``, read from the installed ``faker``."""
    try:
        from faker import VERSION as version
        from faker import Faker
        from faker.decode import codes
    except ImportError:
        raise KocrError("extracting the name lists needs the faker package: pip install 'kocr-sdk[train]'") from None
    generator = Faker(locale)
    elements: dict[str, Any] = {}
    for token, (op, attr) in _RULES[locale].items():
        if attr is None:
            continue
        provider = getattr(generator, token).__self__
        if op in ("pick", "parse", "bothify", "numerify", "user_name") and not getattr(
                provider, "__use_weighting__", True) and any(isinstance(getattr(provider, a), dict)
                                                            for a in ([attr] if isinstance(attr, str) else attr)):
            raise KocrError(f"faker {version}: {locale} {token} draws unweighted; the extracted lists assume weights")
        if isinstance(attr, tuple):  # a concatenation of tuples (state_abbr's default arguments)
            value: Any = tuple(item for name in attr for item in getattr(provider, name))
        else:
            value = getattr(provider, attr)
        elements[token] = _elements_of(value)
    internet = generator.user_name.__self__
    text = "".join(s for entry in elements.values() for s in entry["items"] if isinstance(s, str))
    ascii_map = {}
    for ch in sorted(set(text) | set(text.lower())):  # user names are lower-cased before transliteration
        if ch.isascii() and codes[ord(ch)] == ch:
            continue
        try:
            ascii_map[ch] = codes[ord(ch)]
        except IndexError:
            ascii_map[ch] = ""
    return {"faker": version, "locale": locale, "elements": elements, "ascii": ascii_map,
            "replacements": [list(pair) for pair in getattr(internet, "replacements", ())]}


def verify(data: dict[str, Any], locale: str, seeds: range = range(300)) -> None:
    """Raise :class:`KocrError` unless :class:`ListFaker` on ``data`` returns what the installed Faker
    returns, for every method the generator calls and every seed in ``seeds``."""
    from faker import Faker

    real, replay = Faker(locale), ListFaker(locale, data)
    for seed in seeds:
        for method in METHODS[locale]:
            real.seed_instance(seed)
            replay.seed_instance(seed)
            want, got = getattr(real, method)(), getattr(replay, method)()
            if want != got:
                raise KocrError(f"the name lists extracted from faker {data.get('faker')} do not reproduce it: "
                                f"{locale} {method}() with seed {seed} gives {want!r}, the lists {got!r}")
