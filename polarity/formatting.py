"""How numbers are written in the article: the Jinja filters, in one place."""

from __future__ import annotations

import json
import math
import re

NBSP = "\u00a0"  # keeps a number and its unit on one line in HTML and PDF


def pct(x: float, digits: int = 1) -> str:
    """0.91879 -> '91.9 %'."""
    return f"{x * 100:.{digits}f}{NBSP}%"


def prop(x: float, digits: int = 3) -> str:
    """0.91879 -> '0.919'."""
    return f"{x:.{digits}f}"


def points(x: float, digits: int = 1) -> str:
    """A difference of proportions in percentage points: 0.081 -> '8.1 percentage points'."""
    text = f"{x * 100:.{digits}f}"
    return f"{text}{NBSP}percentage point{'' if text == '1' else 's'}"


def interval(bounds, digits: int = 1, unit: str = "pct") -> str:
    """A confidence interval: [0.91, 0.93] -> '91.0 % to 93.0 %'; unit 'prop' gives
    '0.910 to 0.930', 'points' (for differences) '2.0 to 3.0 percentage points' and 'ms'
    (for durations in seconds) '9.30 to 9.70 ms'."""
    low, high = bounds
    if unit == "points":
        return f"{low * 100:.{digits}f} to {points(high, digits)}"
    if unit == "ms":
        return f"{low * 1000:.{digits}f} to {ms(high, digits)}"
    fmt = {"pct": pct, "prop": prop}[unit]
    return f"{fmt(low, digits)} to {fmt(high, digits)}"


def pvalue(p: float) -> str:
    """'p < 0.001' below a thousandth, otherwise two significant digits."""
    if p < 0.001:
        return "p\u00a0<\u00a00.001"
    return f"p\u00a0=\u00a0{p:.2g}"


def seconds(s: float) -> str:
    """Wall time: 7.2 -> '7.2 s', 184 -> '3 min 4 s'."""
    if s < 60:
        return f"{s:.1f}{NBSP}s"
    minutes, rest = divmod(round(s), 60)
    return f"{minutes}{NBSP}min {rest}{NBSP}s"


def ms(s: float, digits: int = 1) -> str:
    """A short duration in milliseconds: 0.0095 -> '9.5 ms'."""
    return f"{s * 1000:.{digits}f}{NBSP}ms"


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(x: float, digits: int = 2) -> str:
    """A magnitude that may be tiny: 3.5e-06 -> '3.5 × 10⁻⁶'; 0.25 -> '0.25'; 0 -> '0'."""
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
        return f"{x:.{decimals}f}"
    exponent = int(f"{float(x):.{digits - 1}e}".split("e")[1])  # after rounding the mantissa
    mantissa = x / 10**exponent
    return f"{mantissa:.{digits - 1}f}{NBSP}×{NBSP}10{str(exponent).translate(SUPERSCRIPTS)}"


def count(n: int) -> str:
    """55000 -> '55,000'."""
    return f"{n:,}"


def plural(n, noun: str) -> str:
    """3, "seed" -> '3 seeds'; 1, "seed" -> '1 seed' (a count already formatted, too)."""
    text = n if isinstance(n, str) else f"{n:,}"
    return f"{text} {noun}" if text == "1" else f"{text} {noun}s"


def seeds(values) -> str:
    """[0, 1000, 1001, ..., 1099] -> '0, 1000–1099'; an empty list -> 'none'."""
    runs: list[list[int]] = []
    for value in sorted(values):
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs) or "none"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|@$~^&])")
# Line breaks of every kind (a newline would end a callout or open a div) and other
# control characters: each becomes one space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


# Quarto finds shortcodes ({{< … >}}, {{% … %}}) in the text pandoc has already unescaped,
# so backslashes do not stop them; a zero-width space between the two braces does, and
# shows nothing.
_SHORTCODE_BRACES = re.compile(r"(\\[{}])(?=\\[{}])")
ZERO_WIDTH_SPACE = "\u200b"


def md_escape(text) -> str:
    """The one escaping path for every string that reaches the article, from whatever source
    (configs, results files, CITATION.cff, the environment): one line, every character
    that is markup in Markdown, HTML or Typst (raw blocks, attributes, citations, maths)
    backslash-escaped, and Quarto shortcodes broken, so it renders as the text it is."""
    # format() rather than str(): tests/test_numbers.py traces values through format().
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", f"{text}"))
    return _SHORTCODE_BRACES.sub(r"\1" + ZERO_WIDTH_SPACE, escaped)


# Text with no markup in it, left as it is in the front matter: Quarto reads some fields
# (date, version, url) raw, where a backslash would show or break a date.
_PLAIN_META = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .,:/?#=%+_~'·-]*$")


def meta(text) -> str:
    """A string for the YAML front matter: plain text as it is, anything else escaped as
    md_escape escapes it (Quarto reads front-matter strings as Markdown); then quoted as a
    YAML string (JSON's quoting is YAML's)."""
    text = _CONTROL.sub(" ", f"{text}")
    return json.dumps(text if _PLAIN_META.match(text) else md_escape(text), ensure_ascii=False)


OPTIMISER_NAMES = {"sgd": "SGD", "adam": "Adam"}


def setup_label(entry: dict) -> str:
    """A convnet setup in words: "SGD at learning rate 0.03", "batch normalisation and
    Adam at learning rate 0.001", "'same' padding and ...". Valid padding is the default."""
    optimiser = f"{OPTIMISER_NAMES[entry['optimizer']]} at learning rate {entry['learning_rate']:g}"
    changes = ["batch normalisation"] * entry["batch_norm"]
    changes += ["'same' padding"] * (entry["padding"] == "same")
    return " and ".join([*changes, optimiser])


FILTERS = {
    f.__name__: f
    for f in (
        pct,
        prop,
        points,
        interval,
        pvalue,
        seconds,
        ms,
        sci,
        count,
        plural,
        seeds,
        md_escape,
        meta,
        setup_label,
    )
}
