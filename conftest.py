pytest_plugins = ["switchboard_devkit.testing.plugin"]
