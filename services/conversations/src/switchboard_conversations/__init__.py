"""switchboard_conversations"""
