"""Plain records every package shares: what a post is (`records.post`). A leaf: imports nothing
of ours, so the crawl, the store and the digest can all read the one definition."""
