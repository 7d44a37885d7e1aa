"""What boardwatch tells its operators as it runs: logs with secrets masked (`logs`), what a
stopped command had committed (`progress`), health (`healthcheck`), Prometheus metrics
(`metrics`), Atom feeds (`feeds`) and systemd's notify protocol (`systemd`). What the read-only
commands print is `scheduler.readouts`; the `[http]` status page, `scheduler.web`."""
