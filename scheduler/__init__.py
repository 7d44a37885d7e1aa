"""The composition root: configuration, the `scrape` command, one crawl-and-deliver cycle, the
daemon. It wires `scraper`, `storage` and `notify` together and owns time."""
