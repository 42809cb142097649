# Suites that start peer VMs or kill C nodes are tagged :slow and left out of
# a plain `mix test`; `make mixtest` (and so `make test`) passes
# `--include slow` and runs everything.
ExUnit.start(capture_log: true, exclude: [:slow])
HeirloomTest.start_distribution!()
