"""Generated sequence-to-sequence tasks: dates, number words, and string transductions.

Nothing here downloads. Each generator returns ``(X, y)``: source and target sequences of equal
number, ready for a translator's ``fit(X, y)``.

- :func:`make_date_normalization`: dates written in many human formats, in English, French,
  German and Spanish, to ISO 8601 (``"Wednesday, March 3, 2021"`` -> ``"2021-03-03"``), the
  classic small attention task. Formats are chosen so that every source has exactly one
  reading: numeric dates are month-first with slashes (``3/4/2021``, US) or day-first with dots
  (``4.3.2021``, German), never both with one separator, and a two-digit year means the one year
  ending in those digits in the hundred years from ``start_year``.
- :func:`make_number_words`: integers written out in words (English, French, German, Spanish)
  to their digits, or back (``"two hundred forty-one"`` <-> ``"241"``). The number of digits is
  drawn uniformly first, so short and long numbers are equally common.
- :func:`make_transduction`: random token strings and their reversal, copy, or sorted form,
  optionally through a fixed substitution of the vocabulary, with lengths drawn from a range
  the caller sets, for tests of length generalisation (train short, test long).

Spelling conventions of :func:`number_words`: American English without "and"
(``"one hundred five"``); French traditional spelling (``"vingt et un"``, ``"quatre-vingts"``,
``"deux cents"`` but ``"deux cent mille"``); German as one word below a million with
``"einhundert"``/``"eintausend"`` (``"einhunderteins"``) and separate ``"Million(en)"``; Spanish
with ``"cien"``/``"ciento"`` and ``"un"`` before ``"mil"``/``"millón"`` (``"veintiún mil"``).
"""

from __future__ import annotations

import datetime

import numpy as np

__all__ = [
    "make_date_normalization",
    "make_number_words",
    "make_transduction",
    "number_words",
]

LANGUAGES = ("en", "fr", "de", "es")


def _rng(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    return np.random.default_rng(random_state)


def _check_n(n_samples) -> int:
    if isinstance(n_samples, bool) or int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
    return int(n_samples)


def _check_languages(languages) -> tuple[str, ...]:
    languages = (languages,) if isinstance(languages, str) else tuple(languages)
    unknown = sorted(set(languages) - set(LANGUAGES))
    if not languages or unknown:
        raise ValueError(f"languages must be among {LANGUAGES}; got {languages!r}.")
    return languages


# ----------------------------------------------------------------------------- number words
_EN_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen "
_EN_UNITS += "fourteen fifteen sixteen seventeen eighteen nineteen"
_EN_SMALL = _EN_UNITS.split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _en_below_1000(n: int) -> str:
    words = []
    if n >= 100:
        words.append(f"{_EN_SMALL[n // 100]} hundred")
        n %= 100
    if n >= 20:
        words.append(_EN_TENS[n // 10] + (f"-{_EN_SMALL[n % 10]}" if n % 10 else ""))
    elif n:
        words.append(_EN_SMALL[n])
    return " ".join(words)


def _english(n: int) -> str:
    if n == 0:
        return "zero"
    words = []
    for value, name in ((10**6, " million"), (1000, " thousand"), (1, "")):
        group, n = divmod(n, value)
        if group:
            words.append(_en_below_1000(group) + name)
    return " ".join(words)


_FR_SMALL = (
    "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze "
    "seize dix-sept dix-huit dix-neuf"
).split()
_FR_TENS = "_ _ vingt trente quarante cinquante soixante".split()


def _fr_below_100(n: int, final: bool) -> str:
    """French 0 < n < 100; ``final``: nothing follows (``quatre-vingts`` keeps its s)."""
    if n < 20:
        return _FR_SMALL[n]
    if n < 70:
        tens, unit = divmod(n, 10)
        if unit == 0:
            return _FR_TENS[tens]
        return _FR_TENS[tens] + (" et un" if unit == 1 else f"-{_FR_SMALL[unit]}")
    if n < 80:  # soixante-dix .. soixante-dix-neuf, with "soixante et onze"
        return "soixante et onze" if n == 71 else f"soixante-{_FR_SMALL[n - 60]}"
    if n == 80:
        return "quatre-vingts" if final else "quatre-vingt"
    return f"quatre-vingt-{_FR_SMALL[n - 80]}"


def _fr_below_1000(n: int, final: bool) -> str:
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds == 1:
        words.append("cent")
    elif hundreds:
        # "deux cents", but "deux cent un" and "deux cent mille"
        words.append(f"{_FR_SMALL[hundreds]} cent" + ("s" if final and not rest else ""))
    if rest:
        words.append(_fr_below_100(rest, final))
    return " ".join(words)


def _french(n: int) -> str:
    if n == 0:
        return "zéro"
    millions, rest = divmod(n, 10**6)
    thousands, units = divmod(rest, 1000)
    words = []
    if millions:  # "million" is a noun: "deux cents millions", "quatre-vingts millions"
        words.append(
            _fr_below_1000(millions, True) + (" million" if millions == 1 else " millions")
        )
    if thousands:  # "mille" is invariable and follows cent/vingt without their s
        words.append("mille" if thousands == 1 else _fr_below_1000(thousands, False) + " mille")
    if units:
        words.append(_fr_below_1000(units, True))
    return " ".join(words)


_DE_SMALL = (
    "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn "
    "fünfzehn sechzehn siebzehn achtzehn neunzehn"
).split()
_DE_TENS = "_ _ zwanzig dreißig vierzig fünfzig sechzig siebzig achtzig neunzig".split()


def _de_below_1000(n: int, final: bool) -> str:
    """German 0 < n < 1000 as one word; ``final``: the number ends here (``eins``, not ``ein``)."""
    hundreds, rest = divmod(n, 100)
    word = f"{'ein' if hundreds == 1 else _DE_SMALL[hundreds]}hundert" if hundreds else ""
    if rest == 1:
        word += "eins" if final else "ein"
    elif rest < 20 and rest:
        word += _DE_SMALL[rest]
    elif rest:
        tens, unit = divmod(rest, 10)
        if unit:
            word += ("ein" if unit == 1 else _DE_SMALL[unit]) + "und"
        word += _DE_TENS[tens]
    return word


def _german(n: int) -> str:
    if n == 0:
        return "null"
    millions, rest = divmod(n, 10**6)
    thousands, units = divmod(rest, 1000)
    words = []
    if millions:
        words.append(
            "eine Million" if millions == 1 else f"{_de_below_1000(millions, True)} Millionen"
        )
    word = ""
    if thousands:
        word += _de_below_1000(thousands, False) + "tausend"
    if units:
        word += _de_below_1000(units, True)
    if word:
        words.append(word)
    return " ".join(words)


_ES_SMALL = (
    "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
    "dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés "
    "veinticuatro veinticinco veintiséis veintisiete veintiocho veintinueve"
).split()
_ES_TENS = "_ _ _ treinta cuarenta cincuenta sesenta setenta ochenta noventa".split()
_ES_HUNDREDS = (
    "_ ciento doscientos trescientos cuatrocientos quinientos seiscientos setecientos "
    "ochocientos novecientos"
).split()


def _es_below_1000(n: int, apocope: bool) -> str:
    """Spanish 0 < n < 1000; ``apocope``: before mil/millón, uno -> un, veintiuno -> veintiún."""
    if n == 100:
        return "cien"
    hundreds, rest = divmod(n, 100)
    words = [_ES_HUNDREDS[hundreds]] if hundreds else []
    if rest:
        if rest < 30:
            word = _ES_SMALL[rest]
            if apocope and rest == 1:
                word = "un"
            elif apocope and rest == 21:
                word = "veintiún"
        else:
            tens, unit = divmod(rest, 10)
            word = _ES_TENS[tens]
            if unit:
                word += " y " + ("un" if apocope and unit == 1 else _ES_SMALL[unit])
        words.append(word)
    return " ".join(words)


def _spanish(n: int) -> str:
    if n == 0:
        return "cero"
    millions, rest = divmod(n, 10**6)
    thousands, units = divmod(rest, 1000)
    words = []
    if millions:
        words.append("un millón" if millions == 1 else f"{_es_below_1000(millions, True)} millones")
    if thousands:
        words.append("mil" if thousands == 1 else f"{_es_below_1000(thousands, True)} mil")
    if units:
        words.append(_es_below_1000(units, False))
    return " ".join(words)


_SPELLERS = {"en": _english, "fr": _french, "de": _german, "es": _spanish}


def number_words(n: int, language: str = "en") -> str:
    """``n`` written out in words.

    Parameters
    ----------
    n : int
        An integer in ``[0, 10**9)``.
    language : {"en", "fr", "de", "es"}, default="en"
        See the module docstring for the spelling conventions.

    Returns
    -------
    words : str

    Examples
    --------
    >>> number_words(241)
    'two hundred forty-one'
    >>> number_words(80, "fr"), number_words(21, "de"), number_words(21000, "es")
    ('quatre-vingts', 'einundzwanzig', 'veintiún mil')
    """
    if language not in _SPELLERS:
        raise ValueError(f"language must be one of {LANGUAGES}; got {language!r}.")
    if isinstance(n, bool) or int(n) != n or not 0 <= n < 10**9:
        raise ValueError(f"n must be an integer in [0, 10**9); got {n!r}.")
    return _SPELLERS[language](int(n))


def make_number_words(
    n_samples: int = 1000,
    *,
    language: str = "en",
    direction: str = "to_digits",
    max_digits: int = 6,
    random_state=None,
):
    """Numbers written in words and their digits (or the reverse).

    Parameters
    ----------
    n_samples : int, default=1000
        Number of pairs.
    language : {"en", "fr", "de", "es"}, default="en"
        Language of the words (see the module docstring for the spelling).
    direction : {"to_digits", "to_words"}, default="to_digits"
        ``"to_digits"``: words in, digits out; ``"to_words"``: the reverse.
    max_digits : int, default=6
        Numbers have 1 to ``max_digits`` digits (at most 9), the count drawn uniformly.
    random_state : int, RandomState instance or None
        Seeds the draw.

    Returns
    -------
    X : list of str
        The sources.
    y : list of str
        The targets.

    Examples
    --------
    >>> X, y = make_number_words(2, language="fr", random_state=0)
    >>> len(X), all(t.isdigit() for t in y)
    (2, True)
    """
    n_samples = _check_n(n_samples)
    if language not in _SPELLERS:
        raise ValueError(f"language must be one of {LANGUAGES}; got {language!r}.")
    if direction not in ("to_digits", "to_words"):
        raise ValueError(f"direction must be 'to_digits' or 'to_words'; got {direction!r}.")
    if isinstance(max_digits, bool) or int(max_digits) != max_digits or not 1 <= max_digits <= 9:
        raise ValueError(f"max_digits must be an integer in [1, 9]; got {max_digits!r}.")
    rng = _rng(random_state)
    digits = rng.integers(1, int(max_digits) + 1, size=n_samples)
    low = np.where(digits == 1, 0, 10 ** (digits - 1))
    numbers = low + (rng.random(n_samples) * (10**digits - low)).astype(np.int64)
    words = [number_words(int(n), language) for n in numbers]
    figures = [str(int(n)) for n in numbers]
    return (words, figures) if direction == "to_digits" else (figures, words)


# ----------------------------------------------------------------------------- dates
_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
}
_MONTHS = {language: names.split() for language, names in _MONTHS.items()}
_WEEKDAYS = {  # Monday first, as datetime.date.weekday() counts
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche".split(),
    "de": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag".split(),
    "es": "lunes martes miércoles jueves viernes sábado domingo".split(),
}


def _english_ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _date_formats(language: str, two_digit_years: bool):
    """Functions ``date -> text`` of every format of ``language``."""
    month = _MONTHS[language]
    weekday = _WEEKDAYS[language]

    def m(d):
        return month[d.month - 1]

    def w(d):
        return weekday[d.weekday()]

    def yy(d):
        return f"{d.year % 100:02d}"

    if language == "en":
        formats = [
            lambda d: f"{m(d)} {d.day}, {d.year}",
            lambda d: f"{m(d)[:3]} {d.day}, {d.year}",
            lambda d: f"{d.day} {m(d)} {d.year}",
            lambda d: f"{w(d)}, {m(d)} {d.day}, {d.year}",
            lambda d: f"the {_english_ordinal(d.day)} of {m(d)} {d.year}",
            lambda d: f"{m(d)} {_english_ordinal(d.day)}, {d.year}",
            lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",  # US: month first, slashes
            lambda d: f"{d.month}/{d.day}/{d.year}",
            lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
        ]
        if two_digit_years:
            formats.append(lambda d: f"{d.month}/{d.day}/{yy(d)}")
    elif language == "fr":
        formats = [
            lambda d: f"{'1er' if d.day == 1 else d.day} {m(d)} {d.year}",
            lambda d: f"le {'1er' if d.day == 1 else d.day} {m(d)} {d.year}",
            lambda d: f"{w(d)} {'1er' if d.day == 1 else d.day} {m(d)} {d.year}",
        ]
    elif language == "de":
        formats = [
            lambda d: f"{d.day}. {m(d)} {d.year}",
            lambda d: f"{w(d)}, {d.day}. {m(d)} {d.year}",
            lambda d: f"{w(d)}, den {d.day}. {m(d)} {d.year}",
            lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",  # day first, dots
            lambda d: f"{d.day}.{d.month}.{d.year}",
        ]
        if two_digit_years:
            formats.append(lambda d: f"{d.day}.{d.month}.{yy(d)}")
    else:
        formats = [
            lambda d: f"{d.day} de {m(d)} de {d.year}",
            lambda d: f"{w(d)}, {d.day} de {m(d)} de {d.year}",
            lambda d: f"{w(d)} {d.day} de {m(d)} del {d.year}",
        ]
    return formats


def make_date_normalization(
    n_samples: int = 1000,
    *,
    languages=LANGUAGES,
    start_year: int = 1950,
    end_year: int = 2049,
    random_state=None,
):
    """Human-written dates in several languages and formats, and their ISO 8601 form.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of pairs.
    languages : str or sequence of {"en", "fr", "de", "es"}, default=all four
        Languages of the sources, drawn uniformly; then a format of that language.
    start_year, end_year : int, default=1950, 2049
        Dates are drawn uniformly between January 1 of ``start_year`` and December 31 of
        ``end_year``. Two-digit years appear only when the range spans at most 100 years.
    random_state : int, RandomState instance or None
        Seeds the draw.

    Returns
    -------
    X : list of str
        The dates as people write them, e.g. ``"mercredi 3 mars 2021"``.
    y : list of str
        The same dates as ``YYYY-MM-DD``.

    Examples
    --------
    >>> X, y = make_date_normalization(3, languages="en", random_state=0)
    >>> [len(target) for target in y]
    [10, 10, 10]
    """
    n_samples = _check_n(n_samples)
    languages = _check_languages(languages)
    if not (1 <= int(start_year) <= int(end_year) <= 9999):
        raise ValueError(
            f"start_year and end_year must satisfy 1 <= start_year <= end_year <= 9999; got "
            f"{start_year!r} and {end_year!r}."
        )
    two_digit_years = end_year - start_year < 100
    formats = {lang: _date_formats(lang, two_digit_years) for lang in languages}
    rng = _rng(random_state)
    first = datetime.date(int(start_year), 1, 1).toordinal()
    last = datetime.date(int(end_year), 12, 31).toordinal()
    days = rng.integers(first, last + 1, size=n_samples)
    chosen = rng.integers(0, len(languages), size=n_samples)
    picks = rng.random(n_samples)
    X, y = [], []
    for day, language_index, pick in zip(days, chosen, picks, strict=True):
        date = datetime.date.fromordinal(int(day))
        options = formats[languages[language_index]]
        X.append(options[int(pick * len(options))](date))
        y.append(date.isoformat())
    return X, y


# ----------------------------------------------------------------------------- transductions
TRANSDUCTIONS = ("reverse", "copy", "sort")


def make_transduction(
    n_samples: int = 1000,
    *,
    task: str = "reverse",
    min_length: int = 1,
    max_length: int = 10,
    vocabulary_size: int = 10,
    vocabulary_mapping: bool = False,
    mapping_seed: int = 0,
    random_state=None,
):
    """Random token strings and their reversal, copy or sorted form.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of pairs.
    task : {"reverse", "copy", "sort"}, default="reverse"
        The target of a source ``x``: ``x`` reversed, ``x`` itself, or ``x`` sorted.
    min_length, max_length : int, default=1, 10
        Source lengths are drawn uniformly from ``[min_length, max_length]``; train on short
        strings and test on longer ones to measure length generalisation.
    vocabulary_size : int, default=10
        Tokens are ``0 .. vocabulary_size - 1``, drawn uniformly.
    vocabulary_mapping : bool, default=False
        Pass every target token through a fixed permutation of the vocabulary (so ``"copy"``
        becomes copying with a vocabulary mapping, a substitution cipher).
    mapping_seed : int, default=0
        Seeds that permutation; it does not depend on ``random_state``, so that separate
        training and test draws share it.
    random_state : int, RandomState instance or None
        Seeds the strings.

    Returns
    -------
    X : list of ndarray of int64
        The sources.
    y : list of ndarray of int64
        The targets, as long as their sources.

    Examples
    --------
    >>> X, y = make_transduction(2, task="sort", min_length=4, max_length=4, random_state=0)
    >>> bool((y[0] == sorted(X[0])).all())
    True
    """
    n_samples = _check_n(n_samples)
    if task not in TRANSDUCTIONS:
        raise ValueError(f"task must be one of {TRANSDUCTIONS}; got {task!r}.")
    for name, value, low in (
        ("min_length", min_length, 1),
        ("max_length", max_length, 1),
        ("vocabulary_size", vocabulary_size, 2),
    ):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    if max_length < min_length:
        raise ValueError(f"max_length ({max_length}) must be >= min_length ({min_length}).")
    rng = _rng(random_state)
    mapping = np.random.default_rng(mapping_seed).permutation(int(vocabulary_size))
    lengths = rng.integers(int(min_length), int(max_length) + 1, size=n_samples)
    X, y = [], []
    for length in lengths:
        source = rng.integers(0, int(vocabulary_size), size=int(length)).astype(np.int64)
        if task == "reverse":
            target = source[::-1].copy()
        elif task == "sort":
            target = np.sort(source)
        else:
            target = source.copy()
        X.append(source)
        y.append(mapping[target] if vocabulary_mapping else target)
    return X, y
