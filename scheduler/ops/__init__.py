"""What boardwatch shows its operators: logs with secrets masked (`logs`), what the read-only
commands print (`readouts`, `preview`), what a stopped command had committed (`progress`),
health (`healthcheck`), Prometheus metrics (`metrics`), Atom feeds (`feeds`), systemd's notify
protocol (`systemd`), and the `[http]` status page and unsubscribe links (`web/`)."""
