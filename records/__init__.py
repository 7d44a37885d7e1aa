"""Plain records every package shares: what a post is (`records.post`), and the one error base
each package's errors derive from (`records.errors`). A leaf: imports nothing of ours, so the
crawl, the store and the digest can all read the one definition."""
