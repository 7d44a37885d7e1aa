"""Spiders: one generic board spider, driven by a profile."""
