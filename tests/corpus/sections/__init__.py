"""The bad-input corpus's cases, by kind (see tests/corpus/generate.py)."""
