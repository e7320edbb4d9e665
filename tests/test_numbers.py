"""Every number printed in the article comes from the results files, and equals its value.

The article is built from the results of record with every number in them wrapped in a
traced type: a float, int or string that remembers where in which results file it came
from, keeps that through arithmetic (so a percentage computed from a proportion is still
traced), and marks its text with invisible delimiters whenever it is printed. Claims,
tables and the template then run unchanged on the traced results. In the rendered Markdown:

- every digit in the prose must sit inside a traced value's delimiters, or in a number the
  template states on purpose (LISTED_IN_TEMPLATE, each with its reason);
- every traced value must equal the value at its path in the JSON file read afresh, and
  each printed number must agree with the value it prints at the precision shown.
"""

from __future__ import annotations

import json
import re

import pytest

from polarity import article, paths
from polarity.results import read_results

OPEN, CLOSE = "\ue000", "\ue001"  # private-use characters: never in real text
SOURCES: dict[int, tuple[tuple, object]] = {}  # marker id -> (path, value printed)
NUMBER = re.compile(r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?")


def _marked(value, text: str) -> str:
    key = len(SOURCES)
    SOURCES[key] = (value.path, value)
    return f"{OPEN}{key}:{text}{CLOSE}"


class TracedNumber:
    """Arithmetic keeps the trace: the result is traced to the first traced operand."""

    path: tuple  # (results file, key or index, ...)

    def _wrap(self, result, other=None):
        if isinstance(result, bool) or not isinstance(result, (int, float)):
            return result
        return traced(result, self.path, derived=True)

    def __format__(self, spec):
        return _marked(self, format(self.plain(), spec))


def _binary(name):
    def op(self, other):
        result = getattr(self.plain(), name)(
            other.plain() if isinstance(other, TracedNumber) else other
        )
        if result is NotImplemented:
            return result
        if isinstance(result, tuple):  # divmod
            return tuple(self._wrap(r, other) for r in result)
        return self._wrap(result, other)

    return op


def _unary(name):
    def op(self, *args):
        return self._wrap(getattr(self.plain(), name)(*args))

    return op


class TracedFloat(TracedNumber, float):
    derived = False

    def plain(self) -> float:
        return float(self)


class TracedInt(TracedNumber, int):
    derived = False

    def plain(self) -> int:
        return int(self)


for cls in (TracedFloat, TracedInt):
    for _name in (
        "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ "
        "__floordiv__ __rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __divmod__"
    ).split():
        if hasattr(cls.__mro__[2], _name):
            setattr(cls, _name, _binary(_name))
    for _name in ("__neg__", "__abs__", "__round__", "__pos__"):
        setattr(cls, _name, _unary(_name))


class TracedStr(str):
    def __format__(self, spec):
        return _marked(self, format(str.__str__(self), spec))


class TracedList(list):
    pass


def traced(value, path: tuple, derived: bool = False):
    """`value` with every number and string in it traced to `path`."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, dict):
        return {k: traced(v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        out = TracedList(traced(v, (*path, i)) for i, v in enumerate(value))
        out.path = path
        return out
    for plain, cls in ((float, TracedFloat), (int, TracedInt), (str, TracedStr)):
        if isinstance(value, plain):
            out = cls(value)
            out.path = path
            if cls is not TracedStr:
                out.derived = derived
            return out
    return value


def _traced_length(value):
    if isinstance(value, TracedList):
        return traced(len(value), value.path, derived=True)
    return len(value)


def _finalize(value):
    """What the template prints: traced values with their marks."""
    if isinstance(value, (TracedNumber, TracedStr)):
        return _marked(
            value,
            format(value.plain() if isinstance(value, TracedNumber) else str.__str__(value), ""),
        )
    return value


def _traced_join(values, separator=""):
    return separator.join(format(v, "") for v in values)


def _traced_format(template, *args):
    # Jinja's `format` uses %, which skips __format__: print each traced argument itself.
    if any(isinstance(a, TracedNumber) for a in args):
        spec = template.lstrip("%")
        (arg,) = args
        return format(arg, spec)
    return template % args


@pytest.fixture(scope="module")
def traced_article():
    plain = read_results(paths.RESULTS_OF_RECORD)
    results = {name: traced(r, (f"{name}.json",)) for name, r in plain.items()}
    env = article.environment()
    env.finalize = _finalize
    env.filters["length"] = _traced_length
    env.filters["format"] = _traced_format
    env.filters["join"] = _traced_join
    context, _ = article.decide(results, paths.RESULTS_OF_RECORD, article.read_citation(), env)
    SOURCES.clear()
    return article.render_template(env, article.ARTICLE_TEMPLATE, context)


# Numbers the template states itself, not measurements: what they are and why they are fixed.
LISTED_IN_TEMPLATE = {
    "255": "MNIST's ink value, the premise of the question",
    "0": "the background value, the premise of the question",
    "1": "the inverted background value and the all-ones vector in W·1",
    "2": "2/λ, the stability edge of gradient descent; 2 × 2 pooling",
    "3": "3 × 3 convolution kernels of the Keras example",
    "32": "the first convolution's filters in the Keras example",
    "64": "the second convolution's filters in the Keras example; float64, a number type",
    "10": "classes and logits",
    "95": "the confidence level of every interval",
    "97": "the convnet's accuracy targets (TARGETS in experiments/convnet.py)",
    "80": "the power a design aims at, 80 %, in the convnet's methods",
    "98": "the convnet's accuracy targets (TARGETS in experiments/convnet.py), in headers",
    "99": "the convnet's accuracy targets (TARGETS in experiments/convnet.py), in headers",
    "0.001": "the threshold below which a p-value is printed as p < 0.001",
    "28": "MNIST's image size, 28 × 28",
    "20": "the 20 × 20 box NIST's digits were size-normalised into (the MNIST page); TRIM "
    "(polarity/report/speed.py): the speed test's trimmed mean cuts 20 % each end",
    "784": "MNIST's pixel count, 28 × 28",
    "5,000": "the validation images TensorFlow's read_data_sets holds out",
    "5": "LeNet-5, a model's name",
    "0.1": "LeNet-5's background value, quoted from LeCun et al. (1998)",
    "1.175": "LeNet-5's ink value, quoted from LeCun et al. (1998)",
    "0.1307": "the common normalisation constant, quoted",
    "0.3081": "the common normalisation constant, quoted",
    "90": "the glossary: 92 % against 90 % is 2 points; the 90 % interval of two one-sided tests",
    "92": "the glossary's example of a difference of 2 percentage points (92 % against 90 %)",
    "1998": "a citation year",
    "2017": "a citation year",
}


def _prose(markdown: str) -> str:
    """The article's visible text: no front matter, attributes, code, links or comments."""
    markdown = re.sub(r"\A---\n.*?\n---\n", "", markdown, flags=re.S)
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    markdown = re.sub(r"`[^`]*`", "", markdown)
    markdown = re.sub(r"\{[#.][^}]*\}", "", markdown)  # {#id attr="..."} and {.class}
    markdown = re.sub(r"\]\([^)]*\)", "]", markdown)  # link and image targets
    markdown = re.sub(r"<!--.*?-->", "", markdown, flags=re.S)
    markdown = re.sub(r"@[\w:-]+", "", markdown)  # cross-references and citation keys
    return markdown


def _strip_spans(text: str) -> str:
    """`text` with every traced span removed, innermost first."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(f"{OPEN}\\d+:[^{OPEN}{CLOSE}]*{CLOSE}", "", text)
    return text


def test_every_number_in_the_prose_is_traced_to_the_results(traced_article):
    untraced = _strip_spans(_prose(traced_article))
    free = sorted(set(NUMBER.findall(untraced)) - set(LISTED_IN_TEMPLATE))
    assert not free, f"numbers printed without coming from a results file: {free}"


def _at(path: tuple):
    """The value at a traced path (results file, keys and indices) in the file read afresh."""
    file, *keys = path
    value = json.loads((paths.RESULTS_OF_RECORD / file).read_text())
    for key in keys:
        value = value[key]
    return value


def test_every_printed_value_equals_its_results_file(traced_article):
    """A value printed as it is must equal the file's; one computed from it (a percentage,
    a difference) must come from a path that exists in the file."""
    del traced_article  # rendering fills SOURCES
    checked = 0
    for path, value in SOURCES.values():
        stored = _at(path)
        if getattr(value, "derived", False):
            assert isinstance(stored, (int, float, list)), path
            continue
        plain = value.plain() if isinstance(value, TracedNumber) else str.__str__(value)
        assert stored == plain, f"{path}: printed {plain!r}, the file holds {stored!r}"
        checked += 1
    assert checked > 100
