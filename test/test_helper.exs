ExUnit.start(capture_log: true)
HeirloomTest.start_distribution!()
