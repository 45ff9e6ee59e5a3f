"""Figures that a notebook's prose states about its stored outputs, checked against those outputs.

The convention authors follow
-----------------------------
A Markdown cell containing the word "stored" ("The outputs stored above come from the full mode:
...") is a claim about the stored outputs of the same notebook, and every figure it attaches to a
metric must agree with a value some code cell of that notebook stores. The whole cell is checked,
not only the sentence with the word, so that "stored" in a cell's opening line covers the numbers
in its later paragraphs and lists; a rule of thumb ("a score near 1 means collapse") belongs in
another cell, or must name its source. Cells without the word are not checked.

Checked, in such a cell (each figure against the stored values of its metric):

    The outputs stored above reach a score of about 8.5 and a Frechet distance of 40.
    The stored run drew the asked digit with 98.5% conditional accuracy (MNIST score 9.81).
    In the stored run the plain GAN ended on 3.0 modes with 73% of its samples of high quality.

Skipped, because the sentence gives the figure another source:

    Real test digits score 9.88; an untrained generator scores about 1.06.
    A longer benchmark run (`bench/bench_cgan.py`) reaches a score of 9.6 after 3 epochs.

What counts as a claim
----------------------
Metrics: "MNIST score" or "score" (also the verb: "scored 8.5", "scores about 8.5", "to score
8.8"); "Frechet distance", "Frechet", "FID" or "distance"; "conditional accuracy" or "accuracy";
"modes covered" or "modes"; "high quality"; "discriminator loss"; "generator loss".

A figure is attached to a metric when it follows the name through linking words ("a score of
about 8.5", "MNIST score 6.14", "Frechet distance of 7.85", "conditional accuracy of 98.5%") or
stands right before it ("98.5% conditional accuracy", "ended on 3.0 modes", "73% of its samples of
high quality"). A figure is a value, a range ("6 to 8", "between 8.4 and 8.6": some stored value
must lie in it) or a bound ("above 8.5", "below 20"). Not claims: any other number; numbers in
$math$; a count ("the 8 modes", "scores 10,000 samples", "10 epochs"); a percentage attached to a
metric that is not a share ("would score about 10%" is the verb, not the MNIST score).

A figure is skipped when its sentence names another source: real data, an untrained network, a
benchmark or bench script, a paper (Lucic), trials, fast mode or a label-blind generator. The words
before the figure count back to the start of its sentence (a semicolon starts a new one); the words
after it count up to the next comma, semicolon or closing parenthesis, unless another number comes
first: in "a score of 8.5 out of the 9.9 of real digits", "real" describes 9.9, not 8.5. This errs
towards skipping: "Unlike the untrained network, the run scores 8.47" is not checked.

Stored values and the match
---------------------------
Stored values are read from every code cell's stream text and text/plain outputs: `name: value`
lines ("MNIST score:   9.81  (real test digits: 9.88)" stores 9.81 only) and the columns of printed
tables whose header names a metric, each number of a row going to its nearest header column (which
reads left- and right-aligned columns alike, and ignores columns such as "minutes").

A claim holds when a stored value of its metric lies within its tolerance: 5% of the claimed
figure or half a unit of its last digit, whichever is larger ("about 8.5" matches 8.47 but not
1.07; "188" matches 187.6). Percentages are fractions on both sides (73% matches a stored 0.73). A
claim about a metric that no output stores fails too.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from textwrap import shorten

import nbformat

# The name a metric is stored under (and written in prose), by canonical metric.
METRIC_NOUNS = {
    "MNIST score": r"(?:mnist\s+|inception\s+)?score",
    "Frechet distance": r"(?:fr[eé]chet(?:\s+distance)?|fid|distance)",
    "conditional accuracy": r"(?:conditional\s+)?accuracy",
    "modes covered": r"modes(?:\s+covered)?",
    "high quality": r"high[- ]quality",
    "discriminator loss": r"discriminator\s+loss",
    "generator loss": r"generator\s+loss",
}
# Metrics that progress lines print without a colon ("step 600: 1 modes, high quality 0.04"); a score
# or a distance without one is prose ("real test digits score 9.88"), not a stored figure.
BARE_PAIRS = ("modes covered", "high quality")
# Prose also uses the verb: "scored 8.5", "scores about 1.06", "to score 8.8".
PROSE_NAMES = {**METRIC_NOUNS, "MNIST score": r"(?:mnist\s+|inception\s+)?scor(?:e|es|ed|ing)"}

VALUE = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?"
NUMBER = re.compile(rf"(?<![\w.])(?<!\w-){VALUE}(?!\w)")  # not the 1 of "Wasserstein-1" or "Lab03"
BOUND = r"above|over|more\s+than|at\s+least|beyond|below|under|less\s+than|at\s+most"
LOWER_BOUNDS = ("above", "over", "more", "at least", "beyond")
FIGURE = (rf"(?:(?:{BOUND})\s+)?(?:between\s+{NUMBER.pattern}\s+and\s+{NUMBER.pattern}"
          rf"|{NUMBER.pattern}\s*(?:to|-|–)\s*{NUMBER.pattern}|{NUMBER.pattern})")
# Words that may sit between a metric's name and its figure: "a score of about 8.5".
LINK = (r"of|is|was|were|at|to|reached|reaches|reaching|ended|ends|climbs|climbed|rose|rises|fell|"
        r"falls|dropped|stays|stayed|then|about|around|roughly|approximately|nearly|near|close|just|"
        r"only|still|already")
GAP = rf"\s*(?:(?:[:=~≈(]|\b(?:{LINK})\b)\s*)*"
# Words that may sit between a figure and the metric after it: "73% of its samples of high quality".
FILLER = r"of|its|the|their|samples?"
COUNT_BEFORE = re.compile(r"\b(?:the|all|every|each|of)\s+$", re.IGNORECASE)
# "scores 10,000 samples" counts what is scored; it states no score.
COUNT_AFTER = re.compile(r"\s+(?:samples?|images?|digits?|epochs?|steps?|seeds?|seconds?|minutes?|runs?)\b",
                         re.IGNORECASE)
# Metrics that are shares; a percentage attached to any other ("would score about 10%") is no claim.
SHARES = ("conditional accuracy", "high quality")

# Sources other than this notebook's stored run; a figure whose sentence names one is skipped.
OTHER_SOURCES = re.compile(
    r"\b(?:real|untrained|bench\w*|papers?|lucic|trials?|fast[- ]mode|label-blind)\b",
    re.IGNORECASE)
CLAUSE_END = re.compile(r"[,;)]")

STORED_WORD = re.compile(r"\bstored\b", re.IGNORECASE)
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$", re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
BLOCK_START = re.compile(r"\n\s*\n|\n(?=\s*(?:#|[-*+]\s|\d+\.\s|\|))")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(*`])|;\s+")  # a semicolon starts a new source


@dataclass(frozen=True)
class Figure:
    """A number's value (a fraction if it is a percentage) and the precision it was written with."""

    value: float
    half_unit: float

    @classmethod
    def parse(cls, text, percent=False):
        """Read `text` as a figure; `percent` makes a bare number a percentage (the "7" of "7 to 13%")."""
        digits = text.rstrip("%").replace(",", "")
        scale = 100.0 if percent or text.endswith("%") else 1.0
        decimals = len(digits.partition(".")[2])
        return cls(float(digits) / scale, 0.5 * 10.0 ** -decimals / scale)

    def tolerance(self):
        """How far a stored value may be from this figure: 5% of it, or half a unit of its last digit."""
        return max(0.05 * abs(self.value), self.half_unit)


@dataclass(frozen=True)
class Claim:
    """A figure the prose attaches to a metric: a value, a range or a bound."""

    metric: str
    phrase: str
    low: Figure | None
    high: Figure | None

    def holds_for(self, value):
        """Whether the stored `value` agrees with this claim."""
        above_low = self.low is None or value >= self.low.value - self.low.tolerance()
        below_high = self.high is None or value <= self.high.value + self.high.tolerance()
        return above_low and below_high


@dataclass(frozen=True)
class Stored:
    """A value one output stores for a metric, with the text it was printed as."""

    metric: str
    value: float
    text: str


def claim_from_match(metric, phrase, figure_text):
    """The claim that `figure_text` ("about 8.5", "6 to 8", "above 9") makes about `metric`."""
    numbers = NUMBER.findall(figure_text)
    percent = any(number.endswith("%") for number in numbers)
    figures = [Figure.parse(number, percent) for number in numbers]
    bound = re.match(BOUND, figure_text, re.IGNORECASE)
    if bound is None:
        return Claim(metric, phrase, figures[0], figures[-1])
    if bound.group(0).lower().startswith(LOWER_BOUNDS):
        return Claim(metric, phrase, figures[0], None)
    return Claim(metric, phrase, None, figures[0])


def sentences(markdown):
    """The sentences of a Markdown text, without inline math; headings, list items and table rows apart."""
    text = MATH.sub(" ", markdown).replace("**", "")
    for block in BLOCK_START.split(text):
        for sentence in SENTENCE_END.split(block):
            if sentence.strip():
                yield " ".join(sentence.split())


def other_source(sentence, start, end):
    """Whether the sentence gives the figure at sentence[start:end] a source other than the stored run."""
    after = CLAUSE_END.split(sentence[end:], maxsplit=1)[0]
    if NUMBER.search(after):
        after = ""  # "a score of 9.81 (real digits: 9.88)": these words describe the later number
    return OTHER_SOURCES.search(sentence[:start] + " " + after) is not None


def claims_in_sentence(sentence):
    """The claims a sentence makes about the notebook's stored run."""
    found = {}
    for metric, name in PROSE_NAMES.items():
        after_name = re.compile(rf"\b(?:{name})\b{GAP}(?P<figure>{FIGURE})", re.IGNORECASE)
        before_name = re.compile(rf"(?P<figure>{FIGURE})(?:\s+(?:{FILLER}))*\s+(?:{name})\b", re.IGNORECASE)
        for pattern in (after_name, before_name):
            for match in pattern.finditer(sentence):
                start, end = match.span("figure")
                if pattern is before_name and COUNT_BEFORE.search(sentence[:start]):
                    continue
                if COUNT_AFTER.match(sentence, end) or ("%" in match.group("figure") and metric not in SHARES):
                    continue
                if other_source(sentence, start, end):
                    continue
                found.setdefault(start, claim_from_match(metric, match.group(0), match.group("figure")))
    return [found[start] for start in sorted(found)]


def stored_claim_cells(nb):
    """The Markdown cells of `nb` that describe its stored outputs (they contain the word "stored")."""
    return [cell for cell in nb.cells if cell.cell_type == "markdown" and STORED_WORD.search(cell.source)]


def output_text(nb):
    """The stream text and text/plain outputs of every code cell, as lines without colour codes."""
    chunks = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "stream":
                chunks.append(output.get("text", ""))
            elif "text/plain" in output.get("data", {}):
                chunks.append(output["data"]["text/plain"])
    text = ANSI.sub("", "\n".join(chunks))
    return text.replace("\r", "\n").split("\n")


def key_value_figures(line):
    """The figures of `name: value`, `name value` and `value name` pairs on one output line.

    ("MNIST score:   9.81  (real ...: 9.88)", "step 600: 1 modes, high quality 0.04")
    """
    found = []
    for metric, name in METRIC_NOUNS.items():
        separator = r"\s*[:=]\s*" if metric not in BARE_PAIRS else r"(?:\s*[:=]\s*|\s+)"
        after = rf"\b(?:{name})\b\s*(?:\([^)]*\))?\s*['\"]?{separator}({VALUE})(?!\w)"
        before = rf"(?<![\w.])({VALUE})\s+(?:{name})\b"
        for pattern in (after, before) if metric in BARE_PAIRS else (after,):
            for match in re.finditer(pattern, line, re.IGNORECASE):
                found.append(Stored(metric, Figure.parse(match.group(1)).value, match.group(1)))
    return found


def header_columns(line):
    """The columns a table header names, as (metric or None, start, end); None unless it names a metric."""
    if NUMBER.search(re.sub(r"\([^)]*\)", "", line)):
        return None
    columns, taken = [], set()
    for metric, name in METRIC_NOUNS.items():
        for match in re.finditer(rf"\b(?:{name})\b(?!\s*[:=])", line, re.IGNORECASE):
            if not taken & set(range(*match.span())):
                columns.append((metric, *match.span()))
                taken |= set(range(*match.span()))
    if not columns:
        return None
    for word in re.finditer(r"\S+", line):
        if not taken & set(range(*word.span())):
            columns.append((None, *word.span()))
    return columns


def nearest_column(columns, start, end):
    """The metric of the header column nearest to characters start:end of a row (None: not a metric)."""
    def distance(column):
        _, column_start, column_end = column
        gap = max(start, column_start) - min(end, column_end)  # negative: the overlap
        return (max(gap, 0), gap)
    return min(columns, key=distance)[0]


def fields(line):
    """The fields of a table row: runs of text separated by two or more spaces."""
    return [field for field in re.split(r"\s{2,}", line.strip()) if field]


def table_figures(lines):
    """The figures in the metric columns of the tables printed in `lines`."""
    found = []
    for index, line in enumerate(lines):
        columns = header_columns(line)
        if columns is None:
            continue
        width = None
        for row in lines[index + 1:]:
            if not NUMBER.search(row) or (width is not None and len(fields(row)) != width):
                break
            width = len(fields(row))
            for number in NUMBER.finditer(row):
                metric = nearest_column(columns, *number.span())
                if metric is not None:
                    found.append(Stored(metric, Figure.parse(number.group(0)).value, number.group(0)))
    return found


def stored_values(nb):
    """Every value the code cells of `nb` store, by metric."""
    lines = output_text(nb)
    values = {}
    for stored in [*table_figures(lines), *(f for line in lines for f in key_value_figures(line))]:
        values.setdefault(stored.metric, []).append(stored)
    return values


def contradictions(nb, name="notebook"):
    """One message for each claim of a "stored" Markdown cell of `nb` that no stored value supports."""
    values = stored_values(nb)
    messages = []
    for cell in stored_claim_cells(nb):
        first_line = shorten(cell.source.strip().splitlines()[0], 80, placeholder=" ...")
        for sentence in sentences(cell.source):
            for claim in claims_in_sentence(sentence):
                stored = values.get(claim.metric, [])
                if any(claim.holds_for(item.value) for item in stored):
                    continue
                found = (f"the stored values are {', '.join(item.text for item in stored)}" if stored
                         else "no output stores one")
                messages.append(f"{name}, Markdown cell {first_line!r}: the text claims {claim.phrase!r} "
                                f"({claim.metric}) but {found}")
    return messages


def check_file(path):
    """The contradictions of the notebook at `path`, each message naming its file."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    return contradictions(nb, f"{path.parent.name}/{path.name}")
