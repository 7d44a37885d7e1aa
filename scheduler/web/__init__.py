"""The daemon's HTTP port (`[http] address`): `/metrics`, `/healthz`, the status page `/` and
the unsubscribe links `/unsubscribe/TOKEN` — routed in `app`, their pages built and rendered in
`pages`, served by `server`."""
