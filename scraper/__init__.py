"""Crawling: board profiles, a spider that walks a board's list pages, and the store pipeline."""
