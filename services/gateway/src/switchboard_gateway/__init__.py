"""switchboard_gateway"""
