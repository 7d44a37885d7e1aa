"""The scheduler's policies, each in one module named for the question it answers, as functions
over plain values: when a digest is due (`due`), when a refused target is tried again
(`retries`), how a board's run is judged (`verdict`), and how leases are held while work runs
(`holding`)."""
