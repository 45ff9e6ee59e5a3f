"""Tests for gan_lab.course_config: instructor commands find the solutions from a flag, env or gan-lab.toml."""

import pytest

from gan_lab import course_config
from gan_lab.course_config import CourseConfigError, find_solutions


@pytest.fixture
def course(tmp_path, monkeypatch):
    """An empty working folder, no GAN_LAB_SOLUTIONS, and no kit checkout to fall back on."""
    monkeypatch.delenv("GAN_LAB_SOLUTIONS", raising=False)
    monkeypatch.setattr(course_config, "KIT_SOLUTIONS", tmp_path / "no-kit")
    work = tmp_path / "course" / "week1"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    return tmp_path


def test_the_flag_wins_over_the_environment_and_the_course_file(course, monkeypatch):
    for name in ("flag", "env", "file"):
        (course / name).mkdir()
    monkeypatch.setenv("GAN_LAB_SOLUTIONS", str(course / "env"))
    (course / "course" / "gan-lab.toml").write_text(f'solutions = "{course / "file"}"\n')
    assert find_solutions(course / "flag") == course / "flag"
    assert find_solutions() == course / "env"
    monkeypatch.delenv("GAN_LAB_SOLUTIONS")
    assert find_solutions() == course / "file"


def test_a_relative_path_in_the_course_file_is_relative_to_that_file(course):
    (course / "course" / "private" / "solutions").mkdir(parents=True)
    (course / "course" / "gan-lab.toml").write_text('solutions = "private/solutions"\n')
    assert find_solutions().resolve() == (course / "course" / "private" / "solutions").resolve()


def test_with_nothing_set_the_error_names_all_three_ways_in_one_line(course):
    with pytest.raises(CourseConfigError) as error:
        find_solutions()
    message = str(error.value)
    assert "--solutions DIR" in message and "GAN_LAB_SOLUTIONS=DIR" in message and "gan-lab.toml" in message
    assert "\n" not in message


def test_a_setting_that_points_nowhere_says_which_setting(course, monkeypatch):
    monkeypatch.setenv("GAN_LAB_SOLUTIONS", str(course / "gone"))
    with pytest.raises(CourseConfigError, match=r"\(set by GAN_LAB_SOLUTIONS\): fix the path"):
        find_solutions()


def test_a_broken_or_incomplete_course_file_is_named(course):
    config = course / "course" / "gan-lab.toml"
    config.write_text("solutions = \n")
    with pytest.raises(CourseConfigError, match=f"cannot read {config}"):
        find_solutions()
    config.write_text('title = "GANs"\n')
    with pytest.raises(CourseConfigError, match="has no solutions = "):
        find_solutions()


def test_a_solutions_folder_in_the_working_folder_is_still_found(course):
    (course / "course" / "week1" / "solutions").mkdir()
    assert find_solutions().name == "solutions"
