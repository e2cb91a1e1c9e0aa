"""What gspws takes for a whole number typed as text: ASCII digits, nothing else."""

import pytest

from gspws.core.digits import ascii_digits, whole_number


@pytest.mark.parametrize("text, number", [("0", 0), ("0042", 42), ("30", 30)])
def test_ascii_digits_are_a_whole_number(text, number):
    assert ascii_digits(text) and whole_number(text) == number


@pytest.mark.parametrize("text", ["", "²", "٣٠", "３０", "-1", "+1", " 1", "1.0", "1_0"])
def test_anything_else_is_not_even_where_str_isdigit_says_it_is(text):
    assert not ascii_digits(text) and whole_number(text) is None
