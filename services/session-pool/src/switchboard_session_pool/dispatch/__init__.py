"""Executing send commands, room by room: reading a command into an outbound message (intake), the
gates it must pass (admission, the 24-hour window, pools), the room where it waits, the lanes it is
sent in, and what is done with its outcome; `dispatcher.py` only composes them."""
