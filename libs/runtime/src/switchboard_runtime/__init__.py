"""switchboard_runtime"""
