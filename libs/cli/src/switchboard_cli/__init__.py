"""The operators' command line (`switchboard …`)."""
