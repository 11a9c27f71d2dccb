"""switchboard_session_pool"""
