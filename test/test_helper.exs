HeirloomTest.start_distribution!()
ExUnit.start(capture_log: true)
