pytest_plugins = ["switchboard_runtime.testing.plugin"]
