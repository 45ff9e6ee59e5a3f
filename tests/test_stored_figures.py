"""The prose of every notebook agrees with the figures its code cells store (see stored_figures.py).

Only the notebooks' JSON is read: no kernel, no TensorFlow.
"""

from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from stored_figures import check_file, claims_in_sentence, contradictions, sentences, stored_values

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted([*ROOT.glob("solutions/*.ipynb"), *ROOT.glob("notebooks/*.ipynb")])


def printed(text):
    """A code cell whose stored output is `text` on stdout."""
    return new_code_cell("...", outputs=[new_output("stream", name="stdout", text=text)])


def described(printed_text, markdown):
    """A notebook that prints `printed_text` and describes it in a Markdown cell below."""
    return new_notebook(cells=[printed(printed_text), new_markdown_cell(markdown)])


def test_the_test_finds_the_notebooks():
    assert {path.parent.name for path in NOTEBOOKS} == {"solutions", "notebooks"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_prose_about_stored_outputs_agrees_with_them(path):
    problems = check_file(path)
    assert not problems, "\n".join(problems)


# The parser and the matcher, on small notebooks.

def test_a_stored_score_far_from_the_stated_one_fails():
    nb = described("MNIST score: 1.07  (real test digits: 9.88)\n",
                   "### Reading the numbers\n\nThe outputs stored above reach a score of about 8.5.")
    [problem] = contradictions(nb, "lab03_gan.ipynb")
    assert "lab03_gan.ipynb" in problem
    assert "'### Reading the numbers'" in problem
    assert "'score of about 8.5'" in problem
    assert "1.07" in problem


def test_a_stored_score_within_the_claims_rounding_passes():
    nb = described("MNIST score: 8.47  (real test digits: 9.88)\n",
                   "The outputs stored above reach a score of about 8.5.")
    assert contradictions(nb) == []


def test_prose_without_the_word_stored_is_not_checked():
    nb = described("MNIST score: 1.07\n", "The full run reaches a score of about 8.5.")
    assert contradictions(nb) == []


def test_a_claim_about_a_metric_nothing_stores_fails():
    nb = described("discriminator loss: 1.263\n", "The stored run reaches a Frechet distance of 40.")
    [problem] = contradictions(nb)
    assert "'Frechet distance of 40' (Frechet distance) but no output stores one" in problem


def test_a_percentage_matches_a_stored_percentage():
    nb = described("conditional accuracy: 98.5%  (a label-blind generator: about 10%)\n",
                   "The stored run drew the asked digit with 98.5% conditional accuracy.")
    assert contradictions(nb) == []
    far = described("conditional accuracy: 98.5%\n", "The stored run has a conditional accuracy of 80%.")
    assert len(contradictions(far)) == 1


def test_a_percentage_matches_a_stored_share():
    nb = described("variant  modes covered  high quality\nplain    3.0 (2 to 4)   0.73 (0.61 to 0.85)\n",
                   "In the stored run the plain GAN ended on 3.0 modes with 73% of its samples of high quality.")
    assert contradictions(nb) == []


def test_a_table_column_is_read_by_its_header():
    table = ("               parameters epochs minutes  score distance     classes\n"
             "Lab03 MLP GAN   1,341,285    115    10.0   8.77     26.8  7.1-13.9%\n"
             "DCGAN             951,842     15    10.1   8.78     23.9  7.3-12.8%\n"
             "real test digits score 9.88; the distance of real training digits to the test set is 1.6\n")
    values = stored_values(described(table, ""))
    assert [item.text for item in values["MNIST score"]] == ["8.77", "8.78"]
    assert [item.text for item in values["Frechet distance"]] == ["26.8", "23.9"]
    passing = described(table, "In the stored run the MLP scored 8.77 and the DCGAN's Frechet distance is 23.9.")
    assert contradictions(passing) == []
    # 10.0 is stored, but under "minutes": it is not a score.
    assert len(contradictions(described(table, "The stored run scored 10.0."))) == 1


def test_a_left_aligned_table_with_ranges_is_read_by_its_header():
    table = ("variant                      modes covered       high quality\n"
             "plain                        3.0 (2 to 4)     0.73 (0.61 to 0.85)\n"
             "label smoothing              2.3 (2 to 3)     0.92 (0.90 to 0.95)\n")
    values = stored_values(described(table, ""))
    assert [item.value for item in values["modes covered"]] == [3.0, 2, 4, 2.3, 2, 3]
    assert [item.value for item in values["high quality"]] == [0.73, 0.61, 0.85, 0.92, 0.90, 0.95]


def test_only_the_first_number_after_a_stored_name_counts():
    values = stored_values(described("MNIST score:          9.81  (real test digits: 9.88)\n"
                                     "generator loss (non-saturating): 0.794\n", ""))
    assert [item.text for item in values["MNIST score"]] == ["9.81"]
    assert [item.text for item in values["generator loss"]] == ["0.794"]


def test_a_progress_line_stores_figures_written_before_or_after_their_metric():
    values = stored_values(described("step   600: 1 modes, high quality 0.04\n", ""))
    assert [item.text for item in values["high quality"]] == ["0.04"]
    assert [item.text for item in values["modes covered"]] == ["1"]
    nb = described("step   600: 1 modes, high quality 0.04\n",
                   "In the stored run one mode was covered at step 600, with 4% of high quality.")
    assert contradictions(nb) == []
    assert contradictions(described("step   600: 1 modes, high quality 0.04\n",
                                    "In the stored run two modes were covered, with 40% of high quality.")) != []


def test_figures_attributed_to_real_digits_are_skipped():
    nb = described("MNIST score: 8.47\n",
                   "The stored run scores 8.47, against 9.88 for real test digits. Real digits score 9.88.")
    assert contradictions(nb) == []
    [claim] = claims_in_sentence("a score of 8.47 out of the 9.9 of real digits")
    assert claim.phrase == "score of 8.47"


def test_figures_of_other_sources_are_skipped():
    nb = described("MNIST score: 8.47\nFrechet distance: 37.3\n",
                   "The outputs stored above come from the full mode. An untrained generator scores about 1.06. "
                   "A longer benchmark run reaches a score of 9.6. Lucic et al.'s paper reports a Frechet "
                   "distance of 6.5. In fast mode the numbers describe a barely trained generator: a score near 1.")
    assert contradictions(nb) == []


def test_a_semicolon_ends_the_reach_of_an_other_source():
    assert claims_in_sentence("An untrained generator scores 1.06") == []
    [later] = [claim for sentence in sentences("An untrained generator scores 1.06; the stored run scores 8.47.")
               for claim in claims_in_sentence(sentence)]
    assert later.phrase == "scores 8.47"


def test_words_after_a_later_number_do_not_skip_an_earlier_figure():
    claims = claims_in_sentence("with an MNIST score of 9.81 and a Frechet distance of 7.85, close to real digits' 9.88")
    assert [claim.phrase for claim in claims] == ["MNIST score of 9.81", "Frechet distance of 7.85"]


def test_a_count_before_a_metric_is_not_a_claim():
    claims = claims_in_sentence("the plain GAN ended on 2 to 4 of the 8 modes (3.0 on average)")
    assert [claim.phrase for claim in claims] == ["modes (3.0"]


def test_a_range_passes_when_it_holds_a_stored_value():
    nb = described("MNIST score: 7.2\n", "Stored run: a score of 6 to 8, a score between 7 and 7.5.")
    assert contradictions(nb) == []
    assert len(contradictions(described("MNIST score: 9.8\n", "Stored run: a score of 6 to 8."))) == 1


def test_a_bound_passes_when_a_stored_value_is_on_its_side():
    nb = described("MNIST score: 9.81\n", "The stored run scores above 9.5.")
    assert contradictions(nb) == []
    assert len(contradictions(described("MNIST score: 9.81\n", "The stored run scores below 5."))) == 1


def test_inline_math_holds_no_claim():
    nb = described("discriminator loss: 1.263\n",
                   "In the stored run the discriminator loss is near $2 \\log 2 \\approx 1.386$.")
    assert contradictions(nb) == []


def test_numbers_not_attached_to_a_metric_are_not_claims():
    assert claims_in_sentence("The outputs stored here took 10 epochs of 80 seconds on 60,000 images.") == []


def test_a_parenthesis_after_a_figure_can_name_its_source():
    assert claims_in_sentence("it falls to a Frechet distance of about 700 (untrained) and then to 40") == []
    [claim] = claims_in_sentence("a score of 9.81 (real test digits: 9.88)")
    assert claim.phrase == "score of 9.81"


@pytest.mark.parametrize("sentence, phrases", [
    ("The outputs stored above reach a score of about 8.5 and a Frechet distance of 40.",
     ["score of about 8.5", "Frechet distance of 40"]),
    ("The stored run drew the asked digit with 98.5% conditional accuracy (MNIST score 9.81).",
     ["98.5% conditional accuracy", "MNIST score 9.81"]),
    ("In the stored run the plain GAN ended on 3.0 modes with 73% of its samples of high quality.",
     ["3.0 modes", "73% of its samples of high quality"]),
    ("Real test digits score 9.88; an untrained generator scores about 1.06.", []),
    ("A longer benchmark run (`bench/bench_cgan.py`) reaches a score of 9.6 after 3 epochs.", []),
], ids=["checked-score-distance", "checked-accuracy", "checked-modes-quality", "skipped-real-untrained",
        "skipped-benchmark"])
def test_the_module_docstrings_examples_are_read_as_documented(sentence, phrases):
    found = [claim.phrase for part in sentences(sentence) for claim in claims_in_sentence(part)]
    assert found == phrases
